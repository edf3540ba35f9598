// `--signer token:SLOT|key:PATH` with `--cert`, `--reader`, `--pin-file`: how `gatewayd sign`,
// `gatewayd edxml pack` and `edxml status` name the signer. One parser for the three commands, so a
// signer is written the same way everywhere.
import ArgumentParser
import Foundation
import Signing
import SwiftASN1
import TokenCommandLine
import TokenDriver
import X509

struct SignerOptions: ParsableArguments {
    @Option(help: "token:9a|9c|9d|9e (the PIV token's slot), pkcs11:URI (RFC 7512, e.g. pkcs11:token=…;id=%01, a key on a PKCS#11 token; the module by --module or the URI's ?module-path=), or key:KEY.pem (a key file: development, tests, the demo).") var signer: String?
    @Option(help: "Certificate chain (PEM): for key:, the key's certificate first, then its issuers; for token:, its issuers only (the token holds its own).")
    var cert: String?
    @Option(help: "Reader name, for token: (default: the first reader with a PIV token).") var reader: String?
    @Option(name: .customLong("pin-file"), help: "For token: and pkcs11:, a file whose first line is the PIN (scripts, tests; default: asked on the terminal).") var pinFile: String?
    @Option(help: "For pkcs11:, the PKCS#11 module (e.g. /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so), unless the URI names it.") var module: String?
    @Option(help: "For token: and pkcs11:, gatewayd's socket (default: GATEWAYD_SOCKET, else /var/lib/gatewayd/run/gatewayd.sock). While gatewayd answers there, it signs: the token is not opened here.")
    var socket: String?

    enum Spec: Equatable {
        case token(PIV.Slot)
        case key(String)
        case pkcs11(PKCS11URI)
    }

    /// `token:SLOT` or `key:PATH`. A bare path (what `edxml pack --signer` took before) is refused
    /// rather than guessed: it would read as a key file where `gatewayd sign` wants a prefix.
    static func parse(_ text: String) throws -> Spec {
        if text.hasPrefix("key:"), text.count > 4 { return .key(String(text.dropFirst(4))) }
        if text.hasPrefix("pkcs11:") {
            do { return .pkcs11(try PKCS11URI(text)) } catch { throw CLI.fail("--signer: \(error.description)") }
        }
        if text.hasPrefix("token:") {
            guard let slot = PIV.Slot(rawValue: text.dropFirst(6).lowercased()) else {
                throw CLI.fail("--signer \(text): slot phải là 9a, 9c, 9d hoặc 9e / the slot must be 9a, 9c, 9d or 9e")
            }
            return .token(slot)
        }
        throw CLI.fail("--signer \(text): hãy viết key:\(text) cho tệp khóa, token:9c cho token PIV, hoặc pkcs11:… / write key:\(text) for a key file, token:9c for a PIV token, or pkcs11:…")
    }

    /// The signer, or nil when no --signer is given (an unsigned package).
    func makeSigner() throws -> (any Signer)? {
        guard let signer else {
            if cert != nil { throw CLI.fail("--cert cần --signer / --cert needs --signer") }
            return nil
        }
        switch try Self.parse(signer) {
        case .key(let keyFile):
            guard let cert else { throw CLI.fail("--cert: cần chứng thư của khóa / the key's certificate chain is needed") }
            do { return try SoftwareKeySigner(keyFile: keyFile, chainFile: cert) } catch let error as SignerError {
                throw CLI.fail(error.description)
            }
        case .pkcs11(var uri):
            if let module { uri.modulePath = module }
            if let signer = try throughDaemon(reader: nil, key: uri.description) { return signer }
            guard let path = module ?? uri.modulePath else {
                throw CLI.fail("--signer pkcs11:…: cần --module (thư viện PKCS#11 của token) / --module is needed (the token's PKCS#11 library)")
            }
            let chain = try cert.map(Self.readChain) ?? []
            let pinFile = pinFile
            do {
                let loaded = try PKCS11Module.load(path: path)
                // As typed: the token judges a PKCS#11 PIN, not PIV's 6–8 digit rule.
                return try PKCS11Signer(module: loaded, uri: uri, intermediates: chain) { () throws -> EnteredPIN in
                    try PINEntry.read(file: pinFile)
                }
            } catch {
                throw Self.failure(error)
            }
        case .token(let slot):
            if let signer = try throughDaemon(reader: reader, key: slot.rawValue) { return signer }
            let chain = try cert.map(Self.readChain) ?? []
            let pinFile = pinFile
            do {
                let readerName = try reader ?? Token.Selection.firstPIVReader()
                return try PIVSigner(reader: readerName, slot: slot, intermediates: chain) { () throws -> PIN in
                    try Token.Sign.pin(from: pinFile)
                }
            } catch {
                throw Self.failure(error)
            }
        }
    }

    /// The daemon's signer when gatewayd answers on its socket (it is the only process that opens a
    /// token while it runs); nil when nothing listens there.
    func throughDaemon(reader: String?, key: String) throws -> (any Signer)? {
        do {
            guard let client = try DaemonTokenClient.ifRunning(socket: socket) else { return nil }
            return try DaemonSigner(client: client, reader: reader, key: key, intermediates: try cert.map(Self.readChain) ?? [], pinFile: pinFile)
        } catch {
            throw Self.failure(error)
        }
    }

    static func readChain(_ path: String) throws -> [Certificate] {
        do {
            let pem = try String(contentsOfFile: path, encoding: .utf8)
            return try PEMDocument.parseMultiple(pemString: pem).map { try Certificate(pemDocument: $0) }
        } catch {
            throw CLI.fail("Không đọc được chứng thư / cannot read the certificates in \(path): \(error)")
        }
    }

    /// A failure of the token, the key or the signature as the clerk reads it (exit status 1).
    static func failure(_ error: any Error) -> any Error {
        switch error {
        case let failure as PIVToken.Failure: CLI.fail(failure.description)
        case let error as PCSCError: CLI.fail(error.description)
        case let error as SignerError: CLI.fail(error.description)
        case let error as PKCS11Error: CLI.fail(error.description)
        case let failure as DaemonFailure: CLI.fail(failure.description)
        default: error
        }
    }
}
