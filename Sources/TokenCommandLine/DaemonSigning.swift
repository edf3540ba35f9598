// `token sign` through gatewayd while it runs (issue 18): the daemon is the only process that
// opens a token — OpenSC's ePass2003 secure messaging breaks when two processes share one, and a
// PKCS#11 login belongs to the whole token — so when its socket answers, the files' digests go to
// `POST /v1/tokens/sign` and the daemon signs them in one token session; only when nothing listens
// does the tool open the token itself. Plain sockets and one HTTP/1.1 exchange per request, not an
// HTTP library: `gateway-token` links no Foundation (FoundationEssentials only) and no NIO, and
// starts in milliseconds (docs/PERFORMANCE.md).
import DurableFiles
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Signing
import Synchronization
import TimeJSON
import TokenDriver
#if canImport(Glibc)
import Glibc
#endif

/// The local API's JSON as the tool writes and reads it.
enum DaemonJSON {
    /// `bytes` as a JSON string's content, appended (the PIN goes in this way: bytes, never a String).
    static func appendString(_ bytes: some Collection<UInt8>, to body: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        body.append(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): body += [UInt8(ascii: "\\"), byte]
            case 0..<0x20: body += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: body.append(byte)
            }
        }
        body.append(UInt8(ascii: "\""))
    }

    /// `{"reader": …, "key": …` — the opening of both requests' objects (no closing brace).
    static func opening(reader: String?, key: String?) -> [UInt8] {
        var body = Array("{".utf8)
        for (name, value) in [("reader", reader), ("key", key)] {
            guard let value else { continue }
            if body.count > 1 { body.append(UInt8(ascii: ",")) }
            appendString(Array(name.utf8), to: &body)
            body.append(UInt8(ascii: ":"))
            appendString(Array(value.utf8), to: &body)
        }
        return body
    }

    /// The API's error body, as the tool prints its own failures: "Vietnamese / English".
    struct ErrorBody: Decodable {
        struct Detail: Decodable {
            var code: String
            var message_vi: String
            var message_en: String
        }
        var error: Detail
    }

    static func failure(status: Int, body: [UInt8]) -> DaemonFailure {
        if let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(body)) {
            return DaemonFailure("\(error.error.message_vi) / \(error.error.message_en) (gatewayd: \(error.error.code))", code: error.error.code)
        }
        return DaemonFailure("gatewayd trả lời HTTP \(status) / gatewayd answered HTTP \(status): \(String(decoding: body.prefix(300), as: UTF8.self))")
    }
}

/// Why the daemon did not sign: its refusal (`code`: the API's, `wrong_pin` …) or the exchange's
/// failure, said as the tool says its own ("Vietnamese / English").
package struct DaemonFailure: Error, CustomStringConvertible {
    package let description: String
    package let code: String?

    init(_ description: String, code: String? = nil) {
        (self.description, self.code) = (description, code)
    }
}

/// The daemon's token routes, for `token sign` and `gatewayd sign --signer` while gatewayd runs:
/// `POST /v1/tokens/certificate` (no PIN) and `POST /v1/tokens/sign` (one token session per
/// request). One connection per request (`Connection: close`); the probe's is used by the first.
package final class DaemonTokenClient: Sendable {
    package let socket: String
    private let probe: Mutex<DaemonConnection?>

    /// The client, or nil when no daemon listens on `--socket` / GATEWAYD_SOCKET / the default
    /// (then the caller opens the token itself). Throws when it cannot tell (a socket it may not open).
    package static func ifRunning(socket option: String?) throws(DaemonFailure) -> DaemonTokenClient? {
        let path = DaemonConnection.socketPath(option: option)
        return try DaemonConnection.connect(path).map { DaemonTokenClient(socket: path, probe: $0) }
    }

    private init(socket: String, probe: DaemonConnection) {
        self.socket = socket
        self.probe = Mutex(probe)
    }

    private func connection() throws(DaemonFailure) -> DaemonConnection {
        if let open = probe.withLock({ $0.take() }) { return open }
        guard let again = try DaemonConnection.connect(socket) else { throw DaemonFailure("gatewayd đã dừng / gatewayd stopped (\(socket))") }
        return again
    }

    private static let unreadable = DaemonFailure("gatewayd trả lời không hiểu được / gatewayd's answer cannot be read")

    /// The certificate `reader`/`key` name (DER) and its key's algorithms, preferred first.
    package func certificate(reader: String?, key: String?) throws(DaemonFailure) -> (certificate: [UInt8], algorithms: [SignatureAlgorithm]) {
        var body = DaemonJSON.opening(reader: reader, key: key)
        body.append(UInt8(ascii: "}"))
        let answer = try connection().post("/v1/tokens/certificate", body: body)
        guard answer.status == 200 else { throw DaemonJSON.failure(status: answer.status, body: answer.body) }
        guard let found = try? JSONDecoder().decode(Certificate.self, from: Data(answer.body)),
              let der = Data(base64Encoded: found.certificate) else { throw Self.unreadable }
        let algorithms = found.algorithms.compactMap(SignatureAlgorithm.init(rawValue:))
        guard !algorithms.isEmpty else { throw Self.unreadable }
        return (Array(der), algorithms)
    }

    /// The signatures of `digests` in their order, made in one token session by the daemon. The
    /// PIN goes into the request's bytes from a zeroed copy, and the request is zeroed once sent.
    package func sign(reader: String?, key: String?, algorithm: SignatureAlgorithm, digests: [[UInt8]], confirmLastTry: Bool,
                      pin: EnteredPIN) throws(DaemonFailure) -> [[UInt8]] {
        var body = DaemonJSON.opening(reader: reader, key: key)
        defer { for index in body.indices { body[index] = 0 } }
        if body.count > 1 { body.append(UInt8(ascii: ",")) }
        body += Array(#""algorithm":"\#(algorithm.rawValue)","confirm_last_try":\#(confirmLastTry),"digests":["#.utf8)
        for (index, digest) in digests.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            DaemonJSON.appendString(Array(Data(digest).base64EncodedString().utf8), to: &body)
        }
        body += Array(#"],"pin":"#.utf8)
        // Room for the PIN at its longest (every byte escaped) and the end: the array is not
        // moved once the PIN is in it, so no copy of it is freed without being zeroed.
        body.reserveCapacity(body.count + pin.count * 6 + 3)
        pin.withCopy { DaemonJSON.appendString($0, to: &body) }
        body.append(UInt8(ascii: "}"))
        let answer = try connection().post("/v1/tokens/sign", body: body)
        guard answer.status == 200 else { throw DaemonJSON.failure(status: answer.status, body: answer.body) }
        guard let signed = try? JSONDecoder().decode(Signatures.self, from: Data(answer.body)), signed.signatures.count == digests.count else {
            throw Self.unreadable
        }
        var signatures: [[UInt8]] = []
        for text in signed.signatures {
            guard let signature = Data(base64Encoded: text) else { throw Self.unreadable }
            signatures.append(Array(signature))
        }
        return signatures
    }

    /// The token's PIN changed by the daemon (`POST /v1/tokens/change-pin`): both PINs go into
    /// the request's bytes from zeroed copies, and the request is zeroed once sent.
    package func changePIN(reader: String?, key: String?, current: EnteredPIN, new: EnteredPIN, confirmLastTry: Bool) throws(DaemonFailure) {
        var body = DaemonJSON.opening(reader: reader, key: key)
        defer { for index in body.indices { body[index] = 0 } }
        if body.count > 1 { body.append(UInt8(ascii: ",")) }
        body += Array(#""confirm_last_try":\#(confirmLastTry),"current":"#.utf8)
        // Room for both PINs at their longest (every byte escaped): no copy moved and left unzeroed.
        body.reserveCapacity(body.count + (current.count + new.count) * 6 + 16)
        current.withCopy { DaemonJSON.appendString($0, to: &body) }
        body += Array(#","new":"#.utf8)
        new.withCopy { DaemonJSON.appendString($0, to: &body) }
        body.append(UInt8(ascii: "}"))
        let answer = try connection().post("/v1/tokens/change-pin", body: body)
        guard answer.status == 200 else { throw DaemonJSON.failure(status: answer.status, body: answer.body) }
    }

    /// The daemon's view of the tokens (`GET /v1/tokens`): the readers and the modules its
    /// configuration names, plus those of `modules` it is configured with (the others come back
    /// in `notConfigured`, not loaded).
    package func list(modules: [String]) throws(DaemonFailure) -> TokenListing {
        let query = modules.map { "module=" + Self.queryEscaped($0) }.joined(separator: "&")
        let answer = try connection().get("/v1/tokens" + (query.isEmpty ? "" : "?" + query))
        guard answer.status == 200 else { throw DaemonJSON.failure(status: answer.status, body: answer.body) }
        guard let listing = try? GatewayJSON.decoder.decode(TokenListing.self, from: Data(answer.body)) else { throw Self.unreadable }
        return listing
    }

    /// A module's path as a query value: unreserved bytes as they are, the rest %XX.
    static func queryEscaped(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in text.utf8 {
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || "-._~/".utf8.contains(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The routes' answers (GatewayCore's TokenCertificate, TokenSignatures), as far as read here.
    private struct Certificate: Decodable {
        var certificate: String
        var algorithms: [String]
    }

    private struct Signatures: Decodable {
        var signatures: [String]
    }
}

extension SignRequest {
    /// The token as the daemon names it: a PIV reader and slot, or the `pkcs11:` URI with
    /// `--module` as its `module-path` (the daemon takes a module it is configured with).
    func daemonKey() throws -> (reader: String?, key: String) {
        guard let pkcs11 else { return (reader, slot) }
        return (nil, try PKCS11Selection.daemonKey(uri: pkcs11, module: module))
    }

    /// Every file hashed, the PIN read once, one request: the daemon opens the token, signs every
    /// digest in one session (one C_Login on a PKCS#11 token) and closes it. The signatures are
    /// written only once all came back: a failure leaves no file.
    func signThroughDaemon(_ daemon: DaemonTokenClient) throws {
        let (reader, key) = try daemonKey()
        do {
            let chosen: SignatureAlgorithm
            if let algorithm {
                guard let named = SignatureAlgorithm(rawValue: algorithm) else {
                    throw TokenCommandLine.fail("--algorithm: một trong / one of \(SignatureAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                chosen = named
            } else {
                // The key's preferred scheme, as when the tool opens the token: asked without a PIN.
                chosen = try daemon.certificate(reader: reader, key: key).algorithms[0]
            }
            // Every file read before the PIN is asked: an unreadable one costs no try.
            let digests = try inputs.map { input in
                do { return try FileDigest.compute(path: input, algorithm: chosen.digest) } catch {
                    throw TokenCommandLine.fail("Không đọc được tệp / cannot read \(input): \(error)")
                }
            }
            // The bytes as typed (the token judges a PKCS#11 PIN; the daemon checks a PIV PIN's form).
            let pin = try PINEntry.read(file: pinFile)
            let signatures: [[UInt8]]
            do {
                signatures = try daemon.sign(reader: reader, key: key, algorithm: chosen, digests: digests, confirmLastTry: force, pin: pin)
            } catch {
                let unsigned = inputs.count > 1 ? "\nChưa ký / not signed: \(inputs.joined(separator: ", "))" : ""
                throw TokenCommandLine.fail(error.description + unsigned)
            }
            for (signature, path) in zip(signatures, out) { try Token.Sign.write(signature, to: path) }
        } catch let failure as DaemonFailure {
            throw TokenCommandLine.fail(failure.description)
        }
    }
}
