// `gatewayd token change-pin` (and `gateway-token change-pin`): the holder changes the token's PIN
// — a PIV token by CHANGE REFERENCE DATA, a PKCS#11 token by C_SetPIN (TokenDriver's
// `TokenPINChanger`) — with a signature's care: the current PIN tried once, never on the final try
// unless --force, the new one typed twice. PINs come from files or the terminal, never from the
// command line (which `ps` and shell histories show), and never pass through a String.
import ArgumentParser
import DurableFiles
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TokenDriver
#if canImport(Glibc)
import Glibc
#endif

extension Token {
    package struct ChangePIN: ParsableCommand {
        package init() {}
        package static let configuration = CommandConfiguration(
            commandName: "change-pin",
            abstract: "Đổi mã PIN của token / change the token's PIN (PIV, or PKCS#11 with --pkcs11).",
            discussion: """
                The current PIN is read from --pin-file or asked on the terminal; the new one from \
                --new-pin-file or asked twice. A PIV PIN has 6 to 8 digits; a PKCS#11 token's PIN is \
                the bytes typed, its length within the token's own limits (ulMinPinLen–ulMaxPinLen), \
                letters allowed where the token allows them. The current PIN is tried once: \
                a wrong one costs a try and changes nothing, and it is not tried when one try is left \
                unless --force. Without --pkcs11, the PIV token in --reader (default: the first reader \
                with a PIV token).
                """)
        @Option(help: "PIV: the reader's name (default: the first reader with a PIV token).") var reader: String?
        @OptionGroup var pkcs11: PKCS11Selection
        @Option(name: .customLong("pin-file"), help: "A file whose first line is the current PIN (scripts, tests).") var pinFile: String?
        @Option(name: .customLong("new-pin-file"), help: "A file whose first line is the new PIN (scripts, tests).") var newPINFile: String?
        @Flag(help: "Try the current PIN even when only one try is left.") var force = false
        @Option(help: "gatewayd's socket (default: GATEWAYD_SOCKET, else /var/lib/gatewayd/run/gatewayd.sock). While gatewayd answers there, it changes the PIN: the tool does not open the token.")
        var socket: String?

        package func run() throws {
            // While gatewayd runs it is the only process that opens a token (DaemonSigning.swift).
            let daemon: DaemonTokenClient?
            do throws(DaemonFailure) { daemon = try DaemonTokenClient.ifRunning(socket: socket) } catch {
                throw TokenCommandLine.fail(error.description)
            }
            if let daemon { return try changeThroughDaemon(daemon) }
            let changer = try makeChanger()
            let old = try PINEntry.read(prompt: "Mã PIN hiện tại / current PIN: ", file: pinFile)
            let new = try PINEntry.readNew(file: newPINFile) { pin in
                do { try changer.checkNew(pin) } catch { throw TokenCommandLine.fail(TokenCommandLine.message(error)) }
            }
            if old.matches(new) { throw TokenCommandLine.fail("Mã PIN mới trùng mã PIN hiện tại / the new PIN is the current one") }
            do { try changer.changePIN(old: old, new: new, force: force) } catch {
                throw TokenCommandLine.fail(TokenCommandLine.message(error))
            }
            print("Đã đổi mã PIN / PIN changed: \(changer.location)")
        }

        /// Both PINs read as when the tool changes it itself, then one request: the daemon judges
        /// the new PIN by the token's rules (which the tool could learn only by opening the token),
        /// tries the current one once, and answers with the same refusals as the console.
        func changeThroughDaemon(_ daemon: DaemonTokenClient) throws {
            if pkcs11.uri == nil, pkcs11.module != nil { throw TokenCommandLine.fail("--module cần --pkcs11 / --module needs --pkcs11") }
            if pkcs11.uri != nil, reader != nil {
                throw TokenCommandLine.fail("--reader là cho token PIV, không dùng với --pkcs11 / --reader is for a PIV token, not with --pkcs11")
            }
            let key = try pkcs11.uri.map { try PKCS11Selection.daemonKey(uri: $0, module: pkcs11.module) }
            let old = try PINEntry.read(prompt: "Mã PIN hiện tại / current PIN: ", file: pinFile)
            let new = try PINEntry.readNew(file: newPINFile) { _ in }
            if old.matches(new) { throw TokenCommandLine.fail("Mã PIN mới trùng mã PIN hiện tại / the new PIN is the current one") }
            do throws(DaemonFailure) {
                try daemon.changePIN(reader: reader, key: key, current: old, new: new, confirmLastTry: force)
            } catch {
                throw TokenCommandLine.fail(error.description)
            }
            print("Đã đổi mã PIN (gatewayd) / PIN changed by gatewayd: \(key ?? reader ?? "PIV")")
        }

        func makeChanger() throws -> any TokenPINChanger {
            guard let (module, uri) = try pkcs11.resolve() else { return PIVPINChanger(reader: try reader ?? Token.Selection.firstPIVReader()) }
            if reader != nil { throw TokenCommandLine.fail("--reader là cho token PIV, không dùng với --pkcs11 / --reader is for a PIV token, not with --pkcs11") }
            do { return try PKCS11PINChanger(module: module, uri: uri) } catch { throw TokenCommandLine.fail(error.description) }
        }
    }
}

extension TokenCommandLine {
    /// A token's failure as the clerk reads it; anything else as it describes itself.
    static func message(_ error: any Error) -> String {
        switch error {
        case let failure as PIVToken.Failure: failure.description
        case let error as PKCS11Error: error.description
        case let error as PCSCError: error.description
        default: "\(error)"
        }
    }
}

/// PINs typed on the terminal or read from a file, made into `EnteredPIN`s from their bytes (the
/// token's backend judges them): the bytes read are zeroed once copied, and no String holds them.
package enum PINEntry {
    /// The prompt of a signature's PIN, the same wherever a command asks it.
    package static let signingPrompt = "Mã PIN / PIN: "

    package static func read(prompt: String = signingPrompt, file: String?) throws -> EnteredPIN {
        var bytes = try file.map(firstLine) ?? typed(prompt)
        defer { zero(&bytes) }
        return try pin(bytes)
    }

    /// The new PIN: from `file`, or typed twice (the two must be the same). `check`: the token's
    /// rule for it, said at once rather than after the second entry.
    static func readNew(file: String?, check: (EnteredPIN) throws -> Void) throws -> EnteredPIN {
        if let file {
            let new = try read(prompt: "", file: file)
            try check(new)
            return new
        }
        var first = try typed("Mã PIN mới / new PIN: ")
        defer { zero(&first) }
        let new = try pin(first)
        try check(new)
        var second = try typed("Nhập lại mã PIN mới / the new PIN again: ")
        defer { zero(&second) }
        guard first == second else { throw TokenCommandLine.fail("Hai lần nhập mã PIN mới khác nhau / the two new PINs differ") }
        return new
    }

    static func pin(_ bytes: [UInt8]) throws -> EnteredPIN {
        guard !bytes.isEmpty else { throw TokenCommandLine.fail("Chưa nhập mã PIN / no PIN entered") }
        return bytes.withUnsafeBufferPointer { EnteredPIN(bytes: $0) }
    }

    /// The file's first line, as bytes.
    static func firstLine(_ path: String) throws -> [UInt8] {
        guard var data = POSIXFile.readPrefix(path, upTo: 4096) else {
            throw TokenCommandLine.fail("Không đọc được tệp PIN / cannot read the PIN file \(path)")
        }
        defer { data.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        return Array(data.prefix { $0 != 0x0A && $0 != 0x0D })
    }

    /// What the person typed (no echo), copied out of getpass's static buffer, which is then zeroed.
    static func typed(_ prompt: String) throws -> [UInt8] {
        guard let entered = getpass(prompt) else { throw TokenCommandLine.fail("Không đọc được mã PIN / no PIN entered") }
        let length = strlen(entered)
        let bytes = Array(UnsafeRawBufferPointer(start: entered, count: length))
        memset(entered, 0, length)
        return bytes
    }

    static func zero(_ bytes: inout [UInt8]) {
        for index in bytes.indices { bytes[index] = 0 }
    }
}
