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

/// One connection to the daemon's local API on its Unix socket.
package struct DaemonConnection {
    /// gatewayd's own default, `<data-dir>/run/gatewayd.sock` with the default data directory
    /// (GatewayConfiguration.socketPath; this library does not link GatewayCore to ask it, and a
    /// test checks that the two agree).
    package static let defaultSocket = "/var/lib/gatewayd/run/gatewayd.sock"

    /// `--socket`, else `GATEWAYD_SOCKET`, else the default.
    static func socketPath(option: String?) -> String {
        if let option { return option }
        if let variable = getenv("GATEWAYD_SOCKET") {
            let path = String(decoding: UnsafeBufferPointer(start: variable, count: strlen(variable)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !path.isEmpty { return path }
        }
        return defaultSocket
    }

    let socket: String
    private let fd: Int32

    /// Connected, or nil when nothing listens there (no socket file, or a socket nobody accepts
    /// on): the daemon is not running and the tool may open the token itself. Any other failure —
    /// a socket the user may not open, above all — is an error: a daemon may be running, and the
    /// token must not be opened beside it.
    static func connect(_ path: String) throws(DaemonFailure) -> DaemonConnection? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw DaemonFailure("Đường dẫn socket quá dài / the socket path is too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw DaemonFailure("socket(): \(Self.lastError())") }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if result == 0 { return DaemonConnection(socket: path, fd: fd) }
        let code = errno
        close(fd)
        if code == ENOENT || code == ECONNREFUSED { return nil }
        throw DaemonFailure(
            "gatewayd có thể đang chạy nhưng không mở được socket \(path) (\(Self.lastError(code))); token không được mở song song với nó — hãy chạy với quyền của nhóm socket, hoặc dừng gatewayd (nếu gatewayd không chạy: --socket chỉ tới một đường dẫn không có gì) / gatewayd may be running but its socket \(path) cannot be opened (\(Self.lastError(code))); the token is not opened beside it: run as a member of the socket's group, or stop gatewayd (if it is not running: --socket naming a path where nothing is)")
    }

    private init(socket: String, fd: Int32) {
        (self.socket, self.fd) = (socket, fd)
    }

    /// The answer to a request may take as long as the token: 1000 signatures on a slow token are
    /// minutes. Longer than this, the daemon is not answering.
    static let answerTimeout = 600
    /// The largest answer read: 1000 RSA-4096 signatures in base64 with the certificate.
    static let largestAnswer = 4 * 1024 * 1024

    /// Sends `POST path` with `body` (`Connection: close`) and reads the whole answer; the
    /// connection is closed either way. `body` is the caller's (it may hold the PIN: it zeroes it).
    func post(_ path: String, body: [UInt8]) throws(DaemonFailure) -> (status: Int, body: [UInt8]) {
        try exchange("POST", path, body: body)
    }

    /// `GET path` (its query already escaped), as `post`.
    func get(_ path: String) throws(DaemonFailure) -> (status: Int, body: [UInt8]) {
        try exchange("GET", path, body: [])
    }

    private func exchange(_ method: String, _ path: String, body: [UInt8]) throws(DaemonFailure) -> (status: Int, body: [UInt8]) {
        defer { close(fd) }
        var timeout = timeval(tv_sec: Self.answerTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let head = Array("\(method) \(path) HTTP/1.1\r\nHost: gatewayd\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8)
        try send(head)
        try send(body)
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else {
                if errno == EINTR { continue }
                throw DaemonFailure("Không đọc được trả lời của gatewayd / cannot read gatewayd's answer on \(socket): \(Self.lastError())")
            }
            answer += chunk[0..<count]
            guard answer.count <= Self.largestAnswer else {
                throw DaemonFailure("Trả lời của gatewayd quá lớn / gatewayd's answer is too large")
            }
        }
        return try HTTPAnswer.parse(answer)
    }

    private func send(_ bytes: [UInt8]) throws(DaemonFailure) {
        var sent = 0
        while sent < bytes.count {
            // MSG_NOSIGNAL: a daemon that closes early is an error here, not a SIGPIPE that kills the tool.
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else {
                if count < 0, errno == EINTR { continue }
                throw DaemonFailure("Không gửi được yêu cầu tới gatewayd / cannot send the request to gatewayd on \(socket): \(Self.lastError())")
            }
            sent += count
        }
    }

    static func lastError(_ code: Int32 = errno) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(decoding: UnsafeBufferPointer(start: text, count: strlen(text)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An HTTP/1.1 answer read to the connection's end: the status and the body (by Content-Length, or
/// chunked, or to the end).
enum HTTPAnswer {
    static func parse(_ bytes: [UInt8]) throws(DaemonFailure) -> (status: Int, body: [UInt8]) {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = bytes.indices.first(where: { bytes[$0...].starts(with: separator) }) else {
            throw DaemonFailure("gatewayd trả lời không đúng HTTP / gatewayd's answer is not HTTP")
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw DaemonFailure("gatewayd trả lời không đúng HTTP / gatewayd's answer is not HTTP")
        }
        var body = Array(bytes[(end + 4)...])
        var chunked = false
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].lowercased(), value = String(parts[1].drop { $0 == " " || $0 == "\t" })
            if name == "content-length", let length = Int(value), length <= body.count { body = Array(body.prefix(length)) }
            if name == "transfer-encoding", value.lowercased().contains("chunked") { chunked = true }
        }
        return (status, chunked ? try dechunked(body) : body)
    }

    static func dechunked(_ bytes: [UInt8]) throws(DaemonFailure) -> [UInt8] {
        var body: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = bytes[index...].indices.first(where: { bytes[$0...].starts(with: [13, 10]) }),
                  let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "", radix: 16),
                  lineEnd + 2 + size <= bytes.count else {
                throw DaemonFailure("gatewayd trả lời không đúng HTTP / gatewayd's answer is not HTTP (chunks)")
            }
            if size == 0 { return body }
            body += bytes[(lineEnd + 2)..<(lineEnd + 2 + size)]
            index = lineEnd + 2 + size + 2
        }
    }
}

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
            let pin = try PINEntry.read(prompt: "Mã PIN / PIN: ", file: pinFile)
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
