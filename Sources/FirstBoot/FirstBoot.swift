// `gatewayd firstboot` (issue 19): gateway.toml from the FAT partition applied to the box at
// every boot — all of it or none of it, the last good configuration kept when it is wrong, and
// a box that never had a good one still reachable (DHCP, SSH, the console).
import Console
import DurableFiles
import Foundation
import GatewayCore
#if canImport(Glibc)
import Glibc
#endif

/// What one run did, for trang-thai.txt and the serial console.
package struct BootReport: Sendable {
    package enum Result: Sendable, Equatable {
        /// gateway.toml is in force.
        case applied
        /// gateway.toml is wrong; the last good one stays in force.
        case keptLastGood
        /// gateway.toml is wrong and there never was a good one: the fallback is in force.
        case fallback
    }

    package var result = Result.applied
    package var bootFile: String
    /// gateway.toml's problems, each with its line.
    package var issues: [ConfigurationIssue] = []
    /// What went wrong while applying (a disk, a permission), not in the file.
    package var problems: [String] = []
    /// Box paths written, removed or fixed this run.
    package var written: [String] = []
    /// The configuration the box now runs on.
    package var inForce = BootConfiguration()
    package var secretsBlanked: [String] = []
    package var consoleAddresses: [String] = []
    package var caFingerprints: (sha256: String, sha1: String)?
    /// Why the console's CA could not be made now (the daemon makes it when it starts: not an
    /// error of the configuration).
    package var caProblem: String?

    /// 0 applied, 1 the last good one kept (or applying failed), 2 the fallback.
    package var exitCode: Int32 {
        switch result {
        case .applied: problems.isEmpty ? 0 : 1
        case .keptLastGood: 1
        case .fallback: 2
        }
    }
}

package struct FirstBoot {
    package var bootFile: String
    package var statusFile: String
    package var root: String

    package init(bootFile: String, statusFile: String, root: String) {
        (self.bootFile, self.statusFile, self.root) = (bootFile, statusFile, root)
    }

    /// The running system itself (its host name set now, its addresses shown), not a tree for a test.
    var isLiveSystem: Bool { root == "/" }

    /// Applies gateway.toml, writes trang-thai.txt; the report says what happened.
    package func run(now: Date = Date()) -> BootReport {
        var report = BootReport(bootFile: bootFile)
        var text = ""
        var writer = ManagedFileWriter(root: root, dataDirectory: GatewayConfiguration.defaultDataDirectory)
        do throws(ConfigurationErrors) {
            let file = try BootFileText.read(bootFile)
            text = file.text
            let boot = try BootConfigurationLoader.parse(file.text, path: bootFile)
            report.inForce = boot
            writer = ManagedFileWriter(root: root, dataDirectory: boot.daemon.dataDirectory)
            do {
                try writer.apply(BootFiles.files(for: boot), changed: &report.written)
                try applyShares(boot, writer, &report, now: now)
                // The copy kept is the file as it will be once its secrets are blanked.
                let lastGood = ManagedFile(path: BootFiles.lastGood, contents: Array(boot.blankedText.utf8), mode: 0o600, owner: .root)
                if try writer.place(lastGood, at: writer.rooted(lastGood.path)) { report.written.append(lastGood.path) }
                if boot.blankedText != file.text {
                    let rewritten = ManagedFile(path: bootFile, contents: file.bom + Array(boot.blankedText.utf8), mode: 0o644, owner: .unmanaged)
                    do {
                        _ = try writer.place(rewritten, at: bootFile)
                        report.secretsBlanked = boot.secretKeys
                    } catch {
                        report.problems.append("không xoá được bí mật trong / could not blank the secrets in \(bootFile): \(error)")
                    }
                }
            } catch {
                report.problems.append("\(error)")
            }
        } catch {
            report.issues = error.issues.sorted { ($0.line ?? 0) < ($1.line ?? 0) }
            keepLastGoodOrFallBack(&report, &writer, text: text, now: now)
        }
        finishConsole(&report, writer, now: now)
        if isLiveSystem, let name = report.inForce.hostname, Self.currentHostname() != name {
            if sethostname(name, name.utf8.count) != 0 { report.problems.append("sethostname(\(name)): \(String(cString: strerror(errno)))") }
        }
        let status = BootStatus(report: report)
        do {
            _ = try writer.place(ManagedFile(path: statusFile, contents: status.fileBytes, mode: 0o644, owner: .unmanaged), at: statusFile)
        } catch {
            report.problems.append("không ghi được / could not write \(statusFile): \(error)")
        }
        return report
    }

    /// A wrong gateway.toml: the last good one applied again (normally no write at all), or with
    /// none, the fallback.
    private func keepLastGoodOrFallBack(_ report: inout BootReport, _ writer: inout ManagedFileWriter, text: String, now: Date) {
        let lastGoodPath = writer.rooted(BootFiles.lastGood)
        if let lastGood = try? String(contentsOfFile: lastGoodPath, encoding: .utf8),
           let boot = try? BootConfigurationLoader.parse(lastGood, path: lastGoodPath) {
            report.result = .keptLastGood
            report.inForce = boot
        } else {
            let salvaged = BootConfigurationLoader.salvage(text)
            report.result = .fallback
            report.inForce = BootFiles.fallback(keys: salvaged.keys, hostname: salvaged.hostname)
        }
        writer = ManagedFileWriter(root: root, dataDirectory: report.inForce.daemon.dataDirectory)
        do {
            try writer.apply(BootFiles.files(for: report.inForce), changed: &report.written)
            // The fallback has no accounts, and a box that never had a good file has no share to keep.
            if report.result == .keptLastGood { try applyShares(report.inForce, writer, &report, now: now) }
        } catch {
            report.problems.append("\(error)")
        }
    }

    /// ksmbd's configuration and user database; an account left blank keeps its stored password.
    private func applyShares(_ boot: BootConfiguration, _ writer: ManagedFileWriter, _ report: inout BootReport, now: Date) throws {
        let directory = (ShareFiles.passwordDatabase as NSString).deletingLastPathComponent
        if let aside = try writer.setAsideUntrustedSecretDirectory(directory, now: now) {
            report.problems.append("\(directory) không phải thư mục riêng của root (0700): đã chuyển sang \(aside), mật khẩu cũ không dùng nữa — "
                + "ghi lại mật khẩu các tài khoản vào gateway.toml / \(directory) was not root's own 0700 directory: moved to \(aside), "
                + "its passwords are not used — write the accounts' passwords in gateway.toml again")
        }
        let stored = ShareFiles.storedHashes(try? String(contentsOfFile: writer.rooted(ShareFiles.passwordDatabase), encoding: .utf8))
        let shares = ShareFiles.files(for: boot, stored: stored)
        for account in shares.withoutPassword {
            report.problems.append((account.line.map { "dòng / line \($0): " } ?? "") + "shares.\(account.name): "
                + "tài khoản chưa có mật khẩu, chưa dùng được: ghi mật khẩu vào gateway.toml / the account has no password yet and is left out: write one in gateway.toml")
        }
        try writer.apply(shares.files, changed: &report.written)
        for folder in ShareFiles.folders(boot.daemon) where !boot.shareAccounts.isEmpty {
            if try writer.shareFolder(folder, group: BootConfiguration.shareGroup) { report.written.append(folder) }
        }
    }

    /// The console's CA made now if it is not yet (so trang-thai.txt has its fingerprint from the
    /// first boot), given to the daemon's user, and where clerks reach the console.
    private func finishConsole(_ report: inout BootReport, _ writer: ManagedFileWriter, now: Date) {
        let daemon = report.inForce.daemon
        guard daemon.console.enabled else { return }
        let ca = BoxCA(layout: StoreLayout(dataDirectory: writer.rooted(daemon.dataDirectory)))
        do {
            try ca.prepare(names: ServerNames.ofThisMachine(), now: now)
            try writer.adopt(BoxCA(layout: daemon.layout).directory)
            report.caFingerprints = try BoxCA.fingerprints(ofPEMFile: ca.caCertificatePath)
        } catch {
            report.caProblem = "\(error)"
        }
        let port = TCPAddress(daemon.console.listen)?.port ?? 8443
        let name = report.inForce.hostname ?? (isLiveSystem ? Self.currentHostname()
            : (try? String(contentsOfFile: writer.rooted(BootFiles.hostname), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines))
        var addresses = name.map { ["https://\($0).local:\(port)/"] } ?? []
        if case .fixed(let address, _, _) = report.inForce.network, let ip = address.split(separator: "/").first {
            addresses.append(ip.contains(":") ? "https://[\(ip)]:\(port)/" : "https://\(ip):\(port)/")
        } else if isLiveSystem {
            let ipv4 = ServerNames.ofThisMachine().ipAddresses.filter { $0.count == 4 && $0[0] != 127 }
            addresses += ipv4.map { "https://\($0.map(String.init).joined(separator: ".")):\(port)/" }
        }
        report.consoleAddresses = addresses
    }

    static func currentHostname() -> String {
        var host = [UInt8](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        return String(decoding: host.prefix { $0 != 0 }, as: UTF8.self)
    }
}
