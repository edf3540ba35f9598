// The tool's side of gatewayd's Unix socket: one connection, one HTTP/1.1 exchange, the answer
// read to the connection's end — plain sockets, as DaemonSigning.swift says why.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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
