// `gatewayd token …` and `gateway-token …`: what a technician or clerk needs to see and test a
// signing token. A library of its own so that the small `gateway-token` program can carry these
// commands without the daemon (see docs/architecture.md, "The token tool").
import ArgumentParser
import DurableFiles
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Signing
import TimeJSON
import TokenDriver
import X509
#if canImport(Glibc)
import Glibc
#endif

package struct Token: ParsableCommand {
    package init() {}
    // Synchronous, every command: none awaits anything, and an async command runs on Swift
    // concurrency's pool — threads started and a hop to them and back, each a wait for a CPU on a
    // loaded machine (docs/PERFORMANCE.md, "PKCS#11 signing through SoftHSM2"). Under gatewayd's
    // async root they run as they are.
    // Every command names itself: otherwise ArgumentParser derives the name from the type with
    // String(describing:), whose dynamic casts each scan all the protocol conformances of the
    // binary at start-up (docs/architecture.md, "The token tool").
    package static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Token ký số / USB signing tokens (PIV over PC/SC; PKCS#11 modules with token list --module).",
        subcommands: [List.self, Sign.self, Cert.self, ChangePIN.self, UdevRules.self, ProbeModule.self])

    package struct List: ParsableCommand {
        package init() {}
        package static let configuration = CommandConfiguration(commandName: "list", abstract: "Liệt kê đầu đọc và token / readers, tokens, certificates, PIN tries left.")
        @Flag(help: "JSON output.") var json = false
        @Option(name: .customLong("module"), help: "Also list the tokens of this PKCS#11 module (a path; repeatable). With --json the output is then {\"piv\": [...], \"pkcs11\": [...]}.")
        var modules: [String] = []
        @Option(name: .customLong("opensc-module"), help: "OpenSC's module, for the cards OpenSC supports (default: Debian's).")
        var openSCModule = TokenModuleTable().openSCModule

        @Option(help: "gatewayd's socket (default: GATEWAYD_SOCKET, else /var/lib/gatewayd/run/gatewayd.sock). While gatewayd answers there, it lists the tokens: the tool does not open them.")
        var socket: String?

        package func run() throws {
            // While gatewayd runs it is the only process that opens a token (DaemonSigning.swift):
            // even a listing logs in nothing but does open each token, which an ePass2003's secure
            // messaging does not survive beside the daemon's own session.
            let daemon: DaemonTokenClient?
            do throws(DaemonFailure) { daemon = try DaemonTokenClient.ifRunning(socket: socket) } catch {
                throw TokenCommandLine.fail(error.description)
            }
            let listing: TokenListing
            if let daemon {
                do throws(DaemonFailure) { listing = try daemon.list(modules: modules) } catch {
                    throw TokenCommandLine.fail(error.description)
                }
                // On standard error with --json, so that standard output stays the JSON alone.
                let heading = "Danh sách do gatewayd đọc (\(daemon.socket)) / listed by gatewayd (\(daemon.socket))"
                if json { POSIXFile.writeToStandardError(heading + "\n") } else { print(heading) }
            } else {
                listing = TokenListing.scan(modules: modules, table: TokenModuleTable(openSCModule: openSCModule))
            }
            try show(listing)
        }

        private func show(_ listing: TokenListing) throws {
            for module in listing.notConfigured {
                let said = "PKCS#11 \(module): gatewayd không nạp mô-đun này vì cấu hình của nó không có ([tokens] modules, opensc_module, module_for) — chỉ liệt kê các mô-đun trong cấu hình / gatewayd does not load this module, its configuration does not name it: only the configured modules are listed"
                if json { POSIXFile.writeToStandardError(said + "\n") } else { print(said) }
            }
            // No module listed: the readers alone, as a plain array with --json (as before modules existed).
            if listing.pkcs11.isEmpty {
                if let problem = listing.pivProblem { throw TokenCommandLine.fail(problem) }
                if json { try TokenCommandLine.printJSON(listing.piv) } else { printPIV(listing.piv) }
                return
            }
            try listWithModules(piv: listing.piv, pivProblem: listing.pivProblem, pkcs11: listing.pkcs11)
        }

        /// PIV readers and PKCS#11 modules side by side; neither side's failure hides the other.
        private func listWithModules(piv: [TokenReport], pivProblem: String?, pkcs11: [PKCS11ModuleReport]) throws {
            if json {
                struct Both: Encodable { let piv: [TokenReport]; let pkcs11: [PKCS11ModuleReport] }
                try TokenCommandLine.printJSON(Both(piv: piv, pkcs11: pkcs11))
                return
            }
            if let pivProblem { print("PIV: \(pivProblem)") } else { printPIV(piv) }
            for report in pkcs11 {
                print("PKCS#11 \(report.module): " + (report.problem ?? (report.tokens.isEmpty ? "không có token / no token" : "\(report.tokens.count) token")))
                for token in report.tokens {
                    print("  \(token.label.isEmpty ? "(không nhãn / no label)" : token.label) — \(token.manufacturer) \(token.model), serial \(token.serial)")
                    if token.pinLocked { print("    PIN: BỊ KHÓA / BLOCKED") } else if token.pinFinalTry {
                        print("    PIN: còn 1 lần thử / 1 try left")
                    } else if token.pinCountLow { print("    PIN: đã nhập sai, còn ít lần thử / wrong PIN entered, few tries left") }
                    if token.pinToBeChanged { print("    PIN: cần đổi mã PIN / the PIN must be changed") }
                    for certificate in token.certificates {
                        print("    \(certificate.slot): \(certificate.subject) — \(certificate.keyType), hết hạn / expires \(GatewayJSON.format(certificate.notAfter))")
                    }
                    if let problem = token.problem { print("    \(problem)") }
                }
            }
        }

        private func printPIV(_ reports: [TokenReport]) {
            if reports.isEmpty { print("Không có đầu đọc nào / no reader connected") }
            for report in reports {
                let model = report.usb.map { "\($0.displayName) (USB \($0.idText)) — " } ?? ""
                print("\(model)\(report.reader): " + (report.cardPresent ? (report.piv ? "token PIV" : "thẻ không phải PIV / not PIV") : "trống / empty"))
                if let atr = report.atr { print("  ATR \(atr)") }
                switch (report.backend, report.module) {
                case ("piv"?, _): print("  phục vụ bởi / served by: PIV")
                case ("pkcs11"?, let module?): print("  phục vụ bởi / served by: PKCS#11 \(module)")
                default: break
                }
                if report.pinBlocked == true { print("  PIN: BỊ KHÓA / BLOCKED") } else if let tries = report.pinTriesLeft {
                    print("  PIN: còn \(tries) lần thử / \(tries) tries left")
                }
                for certificate in report.certificates {
                    print("  slot \(certificate.slot): \(certificate.subject) — \(certificate.keyType), hết hạn / expires \(GatewayJSON.format(certificate.notAfter))")
                }
                if let problem = report.problem { print("  \(problem)") }
            }
        }
    }

    package struct Selection: ParsableArguments {
        package init() {}
        /// The slot when none is named (one copy: the option's default and `plainlySpelled`'s).
        static let defaultSlot = "9c"
        @Option(help: "9a, 9c, 9d or 9e.") var slot: String = Selection.defaultSlot
        @Option(help: "Reader name (default: the first reader with a PIV token).") var reader: String?

        var pivSlot: PIV.Slot {
            get throws { try Self.pivSlot(named: slot) }
        }

        static func pivSlot(named name: String) throws -> PIV.Slot {
            guard let slot = PIV.Slot(rawValue: name.lowercased()) else { throw TokenCommandLine.fail("slot phải là 9a, 9c, 9d hoặc 9e / slot must be 9a, 9c, 9d or 9e") }
            return slot
        }

        /// The named reader, or the first one holding a PIV token.
        func readerName() throws -> String {
            try reader ?? Self.firstPIVReader()
        }

        package static func firstPIVReader() throws -> String {
            do {
                let context = try PCSCContext()
                for name in try context.readers() {
                    guard let card = try? context.connect(reader: name) else { continue }
                    defer { card.disconnect() }
                    if (try? PIVToken(card: card).select()) != nil { return name }
                }
            } catch {
                throw TokenCommandLine.fail(error.description)
            }
            throw TokenCommandLine.fail("Không tìm thấy token PIV / no PIV token found")
        }
    }

    package struct Cert: ParsableCommand {
        package init() {}
        package static let configuration = CommandConfiguration(commandName: "cert", abstract: "Xuất chứng thư số của một slot / write a slot's certificate as PEM.")
        @OptionGroup var selection: Selection
        @Option(help: "Output file (PEM).") var out: String
        @Option(help: "gatewayd's socket (default: GATEWAYD_SOCKET, else /var/lib/gatewayd/run/gatewayd.sock). While gatewayd answers there, it reads the certificate: the tool does not open the token.")
        var socket: String?

        package func run() throws {
            let slot = try selection.pivSlot
            // While gatewayd runs it is the only process that opens a token (DaemonSigning.swift).
            let fromDaemon: [UInt8]?
            do throws(DaemonFailure) {
                fromDaemon = try DaemonTokenClient.ifRunning(socket: socket)?.certificate(reader: selection.reader, key: slot.rawValue).certificate
            } catch {
                throw TokenCommandLine.fail(error.description)
            }
            if let fromDaemon { return try write(try Certificate(derEncoded: fromDaemon)) }
            do {
                let context = try PCSCContext()
                let card = try context.connect(reader: try selection.readerName())
                defer { card.disconnect() }
                let token = PIVToken(card: card)
                // SELECT and GET DATA held together, so another program's SELECT cannot come between.
                let der = try card.withTransaction { () throws -> [UInt8] in
                    try token.select()
                    return try token.certificate(slot)
                }
                try write(try Certificate(derEncoded: der))
            } catch let failure as PIVToken.Failure {
                throw TokenCommandLine.fail(failure.description)
            } catch let error as PCSCError {
                throw TokenCommandLine.fail(error.description)
            }
        }

        private func write(_ certificate: Certificate) throws {
            try (certificate.serializeAsPEM().pemString + "\n").write(toFile: out, atomically: true, encoding: .utf8)
        }
    }

    package struct Sign: ParsableCommand {
        package init() {}
        package static let configuration = CommandConfiguration(
            commandName: "sign",
            abstract: "Ký giá trị băm của một tệp trên token / sign the digest of a file on the token (PIV, or PKCS#11 with --pkcs11).",
            discussion: """
                Writes the raw signature (PKCS#1 v1.5 or PSS for RSA, DER for ECDSA): `openssl dgst -sha256 -verify PUB -signature SIG FILE` checks it. \
                The PIN is read from --pin-file or asked on the terminal; it is tried once, never when one try is left unless --force. \
                With --pkcs11, several files may be signed at once (--in A B C --out A.sig B.sig C.sig): the PIN is read once and the \
                token logged in once for all of them, then logged out; a failure stops the batch and names the files left unsigned. \
                While gatewayd runs (its socket answers: --socket, GATEWAYD_SOCKET or its default), gatewayd signs the digests in one \
                request and the tool never opens the token; the signatures are written once all came back. \
                GATEWAYD_APDU_TRACE=1 traces the APDUs (PINs redacted) on standard error.
                """)
        @OptionGroup var selection: Selection
        @Option(name: .customLong("in"), parsing: .upToNextOption, help: "The file(s) to sign (several with --pkcs11).") var inputs: [String]
        @Option(parsing: .upToNextOption, help: "Where to write each signature, in the order of --in.") var out: [String]
        @Option(help: "rsa-pkcs1-sha256, rsa-pss-sha256, ecdsa-sha256, ecdsa-sha384 … (default: the key's preferred one).") var algorithm: String?
        @Option(name: .customLong("pin-file"), help: "A file whose first line is the PIN (tests, scripts).") var pinFile: String?
        @Flag(help: "Try the PIN even when only one try is left.") var force = false
        @OptionGroup var pkcs11: PKCS11Selection
        @Option(help: "gatewayd's socket (default: GATEWAYD_SOCKET, else /var/lib/gatewayd/run/gatewayd.sock). While gatewayd answers there, it signs: the tool does not open the token.")
        var socket: String?

        /// What the options say, as plain values: the command itself (`SignRequest`), which
        /// `plainlySpelled` also fills without ArgumentParser.
        package var request: SignRequest {
            SignRequest(
                slot: selection.slot, reader: selection.reader, inputs: inputs, out: out, algorithm: algorithm,
                pinFile: pinFile, force: force, pkcs11: pkcs11.uri, module: pkcs11.module, socket: socket)
        }

        package func validate() throws {
            if let problem = request.usageProblem { throw ValidationError(problem) }
        }

        package func run() throws {
            try request.run()
        }

        /// The signature, written as pkcs11-tool and openssl write theirs: no fsync (Foundation's
        /// `Data.write` syncs, which waited up to 5 ms on a busy disk, docs/PERFORMANCE.md). The
        /// file is the clerk's output, made again by signing again; nothing else depends on it.
        static func write(_ signature: [UInt8], to path: String) throws {
            do throws(SystemCallError) {
                let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                try POSIXFile.check(fd, "open", path)
                defer { close(fd) }
                try POSIXFile.writeAll(fd, signature, path: path)
            } catch {
                throw TokenCommandLine.fail("Không ghi được chữ ký / cannot write the signature: \(error)")
            }
        }

        /// A PIV PIN from --pin-file or the terminal (`PINEntry`: bytes, zeroed, never a String),
        /// checked for PIV's format before anything is sent.
        package static func pin(from pinFile: String?) throws -> PIN {
            do { return try PINEntry.read(file: pinFile).piv() } catch let error as PIN.FormatError {
                throw TokenCommandLine.fail(error.description)
            }
        }
    }

    package struct UdevRules: ParsableCommand {
        package init() {}
        package static let configuration = CommandConfiguration(
            commandName: "udev-rules",
            abstract: "In luật udev cho các token đã biết / print the udev rules for the known token models.",
            discussion: "The committed udev/70-commune-gateway-tokens.rules is this output for the group gatewayd-tokens; see udev/README.md.")
        /// A group of the tokens' own, not the daemon's `gatewayd` (issue 16): whoever may read
        /// the store need not reach the tokens. The unit gives the daemon it as a supplementary group.
        @Option(help: "The group given the tokens' USB nodes (the daemon is a member).") var group = "gatewayd-tokens"

        package func run() throws {
            // The name goes between quotes in the rules: only what a Unix group name may hold.
            guard !group.isEmpty, group.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) else {
                throw TokenCommandLine.fail("--group: tên nhóm không hợp lệ / not a valid group name: \(group)")
            }
            print(TokenModel.udevRules(group: group), terminator: "")
        }
    }
}

extension Token {
    /// The child the daemon starts once per configured module before loading it itself
    /// (PKCS11ModuleProbe): if vendor code crashes or hangs here, only this process goes.
    package struct ProbeModule: ParsableCommand {
        package init() {}
        package static let configuration = CommandConfiguration(
            commandName: "probe-module", abstract: "Thử nạp một mô-đun PKCS#11 rồi thoát / load a PKCS#11 module once, list its slots, exit.",
            shouldDisplay: false)
        @Argument(help: "The module's path.") var path: String

        package func run() throws {
            do {
                print("ok: \(try PKCS11ModuleProbe.tryHere(path)) slot(s)")
            } catch {
                throw TokenCommandLine.fail(error.description)
            }
        }
    }
}

/// How the token commands end with a message: the message on standard error, then the exit status
/// (1 unless said otherwise), as every `gatewayd` command does.
package enum TokenCommandLine {
    package static func fail(_ message: String, code: ExitCode = .failure) -> ExitCode {
        POSIXFile.writeToStandardError(message + "\n")
        return code
    }

    static func printJSON(_ value: some Encodable) throws {
        print(String(decoding: try GatewayJSON.encoder.encode(value), as: UTF8.self))
    }
}
