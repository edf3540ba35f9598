import AsyncHTTPClient
import DocumentModel
import Foundation
import NIOCore
import NIOPosix
import TimeJSON
#if canImport(Glibc)
import Glibc
#endif

/// The client side of the local API, for `gatewayd`'s own commands (and tests): HTTP over the
/// daemon's Unix socket through AsyncHTTPClient.
package struct LocalAPIClient: Sendable {
    package enum Failure: Error, CustomStringConvertible {
        /// Nothing listens on the socket: the daemon is not running (or not for this data dir).
        case daemonNotRunning(socket: String, underlying: String)
        /// The daemon answered with a refusal.
        case refused(status: Int, APIErrorBody.Detail)
        case unexpected(String)

        package var description: String {
            switch self {
            case .daemonNotRunning(let socket, _):
                "gatewayd không chạy (không kết nối được tới \(socket)). / gatewayd is not running (no answer on \(socket))."
            case .refused(_, let detail):
                "\(detail.messageVi)\n\(detail.messageEn)\n(\(detail.code)\(detail.field.map { ", field \($0)" } ?? ""))"
            case .unexpected(let text): text
            }
        }
    }

    package let socketPath: String
    let timeout: TimeAmount

    package init(socketPath: String, timeout: TimeAmount = .minutes(10)) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    func url(_ path: String) throws -> String {
        guard let url = URL(httpURLWithSocketPath: socketPath, uri: path) else {
            throw Failure.unexpected("bad socket path \(socketPath)")
        }
        return url.absoluteString
    }

    /// AsyncHTTPClient retries a refused connection until its connect timeout (90 s); a Unix
    /// socket answers at once, so one direct connect tells "not running" without that wait.
    func ensureDaemonListens() throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
            raw[path.count] = 0
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if result != 0 {
            throw Failure.daemonNotRunning(socket: socketPath, underlying: String(cString: strerror(errno)))
        }
    }

    func perform<T: Decodable>(_ request: HTTPClientRequest, as type: T.Type) async throws -> (T, Int) {
        try ensureDaemonListens()
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 64 * 1024 * 1024)
            let data = Data(buffer: body)
            let status = Int(response.status.code)
            if status >= 400 {
                if let error = try? GatewayJSON.decoder.decode(APIErrorBody.self, from: data) {
                    throw Failure.refused(status: status, error.error)
                }
                throw Failure.unexpected("HTTP \(status): \(String(decoding: data, as: UTF8.self))")
            }
            return (try GatewayJSON.decoder.decode(T.self, from: data), status)
        } catch let error as HTTPClientError where error == .connectTimeout || error == .remoteConnectionClosed {
            throw Failure.daemonNotRunning(socket: socketPath, underlying: "\(error)")
        } catch let error as NIOConnectionError {
            throw Failure.daemonNotRunning(socket: socketPath, underlying: "\(error)")
        } catch let error as IOError {
            throw Failure.daemonNotRunning(socket: socketPath, underlying: "\(error)")
        } catch let error as ChannelError {
            throw Failure.daemonNotRunning(socket: socketPath, underlying: "\(error)")
        }
    }

    /// Streams a file to `POST /v1/documents`; returns once the daemon says it is durable.
    package func submit(file path: String, metadata: SubmissionMetadata, idempotencyKey: String?) async throws -> DocumentView {
        var request = try fileRequest("/v1/documents", path: path, idempotencyKey: idempotencyKey)
        request.request.headers.add(name: "X-Gateway-Metadata", value: try metadata.json().base64EncodedString())
        defer { try? request.handle.close() }
        return try await perform(request.request, as: DocumentView.self).0
    }

    /// Streams a file to `POST /v1/attachments` as attachment `name` of the submission `idempotencyKey`
    /// (staged by the daemon for the document posted next with that key).
    package func stageAttachment(file path: String, name: String, idempotencyKey: String) async throws -> AttachmentStaged {
        var request = try fileRequest("/v1/attachments", path: path, idempotencyKey: idempotencyKey)
        request.request.headers.add(name: "X-Gateway-File-Name", value: Data(name.utf8).base64EncodedString())
        defer { try? request.handle.close() }
        return try await perform(request.request, as: AttachmentStaged.self).0
    }

    /// A POST whose body streams the file at `path` (the handle is the caller's to close).
    private func fileRequest(_ route: String, path: String, idempotencyKey: String?) throws -> (request: HTTPClientRequest, handle: FileHandle) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Failure.unexpected("Không đọc được tệp \(path) / cannot read \(path)")
        }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        var request = HTTPClientRequest(url: try url(route))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        request.body = .stream(FileChunks(ioPool: nil, path: path, from: 0, to: Int64(size)), length: .known(Int64(size)))
        return (request, handle)
    }

    package func list(states: [String] = [], limit: Int = 100) async throws -> [DocumentRecord] {
        var query = "?limit=\(limit)"
        for state in states { query += "&state=\(state)" }
        return try await perform(HTTPClientRequest(url: try url("/v1/documents" + query)), as: DocumentList.self).0.documents
    }

    package func inbox(limit: Int = 100) async throws -> InboxList {
        try await perform(HTTPClientRequest(url: try url("/v1/inbox?limit=\(limit)")), as: InboxList.self).0
    }

    /// `GET /v1/inbox/{id}`: one incoming item with its verdict.
    package func inboxItem(hubID: Int64) async throws -> InboxList.Entry {
        try await perform(HTTPClientRequest(url: try url("/v1/inbox/\(hubID)")), as: InboxList.Entry.self).0
    }

    /// `POST /v1/inbox/{id}/status`: a clerk's status about incoming document `hubID`.
    package func sendStatus(hubID: Int64, code: String, description: String?, staff: String?) async throws -> ClerkStatusAccepted {
        var body: [String: String] = ["code": code]
        if let description { body["description"] = description }
        if let staff { body["staff"] = staff }
        var request = HTTPClientRequest(url: try url("/v1/inbox/\(hubID)/status"))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        return try await perform(request, as: ClerkStatusAccepted.self).0
    }

    package func directory() async throws -> DirectoryList {
        try await perform(HTTPClientRequest(url: try url("/v1/directory")), as: DirectoryList.self).0
    }

    package func show(_ id: String) async throws -> DocumentView {
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-"])) ?? id
        return try await perform(HTTPClientRequest(url: try url("/v1/documents/" + escaped)), as: DocumentView.self).0
    }

    package func status() async throws -> DaemonStatus {
        try await perform(HTTPClientRequest(url: try url("/v1/status")), as: DaemonStatus.self).0
    }

    /// `POST /v1/signing-sessions`. The PIN is spliced into the JSON as bytes (never a String
    /// here) and the caller's array is zeroed once the request is sent.
    package func openSigningSession(_ request: SigningSessionRequest, pin: inout [UInt8]) async throws -> SigningSessionStatus {
        var body = Array(try JSONEncoder().encode(request))
        defer {
            for index in body.indices { body[index] = 0 }
            for index in pin.indices { pin[index] = 0 }
        }
        guard body.last == UInt8(ascii: "}") else { throw Failure.unexpected("bad session request") }
        body.removeLast()
        body += Array(",\"pin\":\"".utf8)
        for byte in pin {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): body += [UInt8(ascii: "\\"), byte]
            case 0..<0x20: body += Array(String(format: "\\u%04x", byte).utf8)
            default: body.append(byte)
            }
        }
        body += Array("\"}".utf8)
        var http = HTTPClientRequest(url: try url("/v1/signing-sessions"))
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.body = .bytes(ByteBuffer(bytes: body))
        return try await perform(http, as: SigningSessionStatus.self).0
    }

    /// `GET /v1/signing-sessions/{id}`: once it has more than `after` results or has ended, or after `wait` seconds.
    package func signingSession(_ id: String, after: Int, wait: Int) async throws -> SigningSessionStatus {
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-"])) ?? id
        return try await perform(HTTPClientRequest(url: try url("/v1/signing-sessions/\(escaped)?after=\(after)&wait=\(wait)")),
                                 as: SigningSessionStatus.self).0
    }

    /// `POST /v1/documents/{id}/return` or `/withdraw`.
    package func act(_ id: String, action: String, note: String?, by: String?) async throws -> DocumentView {
        var body: [String: String] = [:]
        if let note { body["note"] = note }
        if let by { body["by"] = by }
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-"])) ?? id
        var request = HTTPClientRequest(url: try url("/v1/documents/\(escaped)/\(action)"))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        return try await perform(request, as: DocumentView.self).0
    }

    /// `PUT /v1/documents/{id}/content`: the file streamed as the document's new content.
    package func replace(_ id: String, file path: String, by: String?) async throws -> DocumentView {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw Failure.unexpected("Không đọc được tệp \(path) / cannot read \(path)")
        }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-"])) ?? id
        let query = by.flatMap { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) }.map { "?by=\($0)" } ?? ""
        var request = HTTPClientRequest(url: try url("/v1/documents/\(escaped)/content\(query)"))
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .stream(FileChunks(ioPool: nil, path: path, from: 0, to: Int64(size)), length: .known(Int64(size)))
        return try await perform(request, as: DocumentView.self).0
    }

    package func register(year: Int?) async throws -> RegisterList {
        try await perform(HTTPClientRequest(url: try url("/v1/register" + (year.map { "?year=\($0)" } ?? ""))), as: RegisterList.self).0
    }

    package func storeCheck() async throws -> StoreCheckReport {
        var request = HTTPClientRequest(url: try url("/v1/store/check"))
        request.method = .POST
        return try await perform(request, as: StoreCheckReport.self).0
    }
}
