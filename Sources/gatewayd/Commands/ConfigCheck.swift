// `gatewayd config check`: a configuration file's problems, each with its line and a hint.
import ArgumentParser
import Foundation
import GatewayCore
import TokenDriver

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Tệp cấu hình / the configuration file.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Kiểm tra tệp cấu hình / check a configuration file; every problem with its line and a hint.")
        @Argument(help: "The TOML file.") var file: String

        func run() async throws {
            do {
                let configuration = try ConfigurationLoader.load(path: file)
                print("\(file): OK")
                print("  data_dir = \(configuration.dataDirectory)")
                print("  hot folder = \(configuration.intake.hotFolderEnabled ? configuration.hotFolderPath : "off")")
                print("  socket = \(configuration.socketPath)\(configuration.api.tcpAddress.map { ", tcp = \($0)" } ?? "")")
                for (key, group) in [("api.socket_group", configuration.api.socketGroup), ("share.group", configuration.shareGroup)] {
                    if let group, getgrnam(group) == nil {
                        print("  WARNING: \(key) \"\(group)\" is not a group on this box: gatewayd will not start (groupadd it, or leave it out)")
                    }
                }
                print("  console = \(configuration.console.enabled ? "https://" + configuration.console.listen : "off")")
                print("  max_document_size = \(ByteCountText.format(configuration.intake.maximumDocumentSize)), disk_reserve = \(ByteCountText.format(configuration.intake.diskReserve))")
                let upstream = configuration.resolvedUpstream
                if let url = upstream.url {
                    print("  upstream = \(url), ca_file = \(upstream.caFile ?? "—"), certificate = \(upstream.certificateFile ?? "—")")
                    if let enrolment = configuration.enrolment.url {
                        print("  enrolment = \(enrolment)\(configuration.enrolment.token == nil ? "" : ", token set") (gatewayd enroll; renewed by the daemon)")
                    }
                    print("  max_queue_age = \(upstream.maximumQueueAge.components.seconds) s, retry \(upstream.retryBase) … \(upstream.retryCap)")
                    if configuration.agency.code == nil { print("  WARNING: agency.code is not set: the relay will not start") }
                    if configuration.enrolment.isConfigured, let key = upstream.keyFile, !FileManager.default.fileExists(atPath: key) {
                        print("  NOTE: chưa ghi danh / not enrolled yet: gatewayd enrols at start with a token, or run gatewayd enroll --token …")
                    } else if let key = upstream.keyFile, let warning = Self.exposedKeyWarning(key) { print("  WARNING: " + warning) }
                } else {
                    print("  upstream = none (documents stay on this box)")
                }
                let signing = configuration.signing
                print("  signing: signatures = \(signing.defaultSignatures.map(\.rawValue).joined(separator: ", ")), numbering = \(signing.numbering.rawValue), "
                      + "clock = \(signing.clock.rawValue), session_timeout = \(signing.sessionTimeout)")
                for leader in signing.leaders {
                    print("  leader: \(leader.name) (\(leader.title.replacingOccurrences(of: "\n", with: " / "))), \(leader.identity)"
                          + (leader.signatureImage.map { ", image \($0)" } ?? ", no signature image (text appearance)"))
                }
                if signing.leaders.isEmpty { print("  WARNING: no [[signing.leaders]]: no leader can sign on this box") }
                let agency = configuration.agency
                if agency.taxCode == nil, agency.budgetCode == nil {
                    print("  WARNING: neither agency.tax_code nor agency.budget_code: the organization's token is checked against agency.code only")
                }
                for problem in SigningSettings.load(configuration).problems { print("  WARNING: signing: \(problem)") }
                let anchors = CertificateStanding.anchors(configuration.trust.anchors)
                print("  trust: \(anchors.certificates.count) anchor certificate(s), check_revocation = \(configuration.trust.checkRevocation), recheck_interval = \(Int(configuration.trust.recheckInterval.components.seconds)) s")
                for problem in anchors.problems { print("  WARNING: \(problem)") }
                for line in Self.tokenLines(configuration.tokens, resolved: configuration.resolvedTokens) { print("  " + line) }
                if configuration.trust.anchors.isEmpty {
                    print("  WARNING: no [trust] anchors: a token's certificate is not checked against a root before signing, no document"
                          + " that comes down is shown valid, and every \"signed\": true submission is refused")
                }
            } catch let errors as ConfigurationErrors {
                throw CLI.fail(errors.description)
            }
        }
    }
}

extension Config.Check {
    /// `[tokens]`: where each module named resolves (a name alone is a file in module_dir), and a
    /// warning for one that is missing, cannot be a module of this box or may not be trusted (the
    /// daemon then serves the other tokens, and says the same in its log).
    static func tokenLines(_ written: GatewayConfiguration.Tokens, resolved tokens: GatewayConfiguration.Tokens) -> [String] {
        var lines: [String] = []
        let directory = tokens.moduleDirectory ?? ""
        lines.append("tokens.module_dir = \(directory)" + (FileManager.default.fileExists(atPath: directory) ? "" : " (chưa có / not made yet)"))
        func check(_ key: String, _ name: String, _ path: String) {
            // Tried in a child first, as the daemon does: this check runs before every start
            // (ExecStartPre), and a module that crashed it would stop the daemon as surely.
            let crashed = PKCS11ModuleFile.problem(path) == nil ? ModuleProbes.probe(path).refusal : nil
            if let problem = crashed ?? PKCS11ModuleFile.checked(path) {
                lines.append("WARNING: \(key): " + (name == path ? "" : "\(name) → \(path): ") + problem)
            } else {
                lines.append("\(key) = " + (name == path ? path : "\(name) → \(path)"))
            }
        }
        for (name, module) in zip(written.modules, tokens.modules) { check("tokens.modules", name, module) }
        for (index, (name, choice)) in zip(written.moduleFor.map(\.module), tokens.moduleFor).enumerated() {
            let which = [choice.name, choice.atr.map { "atr \($0)" }, choice.usb.map { "usb \($0)" }].compactMap { $0 }.joined(separator: ", ")
            check("tokens.module_for[\(index + 1)] (\(which))", name, choice.module)
        }
        // OpenSC is optional: without it only PIV tokens and the configured modules are served.
        let openSC = tokens.openSCModule
        if !FileManager.default.fileExists(atPath: openSC) {
            lines.append("NOTE: OpenSC's module \(openSC) is not installed: ePass2003 and IDPrime tokens cannot be used (apt install opensc-pkcs11)")
        } else if let problem = PKCS11ModuleFile.problem(openSC) {
            lines.append("WARNING: tokens.opensc_module: \(problem)")
        } else {
            lines.append("tokens.opensc_module = " + (written.openSCModule == openSC ? openSC : "\(written.openSCModule) → \(openSC)"))
        }
        return lines
    }

    /// A private key file that others than its owner (and group) may read: anyone with a login on
    /// the box, or a share user who reaches it, could take the box's identity.
    static func exposedKeyWarning(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return "upstream.key \(path) cannot be read: \(String(cString: strerror(errno)))" }
        guard info.st_mode & 0o007 != 0 else { return nil }
        return "upstream.key \(path) is readable by every user (mode \(String(info.st_mode & 0o777, radix: 8))): chmod 600 it (or 640 with the daemon's group)"
    }
}
