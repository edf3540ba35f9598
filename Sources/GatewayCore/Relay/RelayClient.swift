import AsyncHTTPClient
import Crypto
import DocumentModel
import DurableFiles
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TimeJSON
import X509

/// The box's side of the relay protocol over mutual TLS (docs/protocol.md): one method per
/// exchange, each returning typed values or a classed `RelayError`. No retry and no store logic
/// here — the relay service decides; this only speaks HTTP.
///
/// Three `HTTPClient`s: urgent uploads, ordinary uploads (`parallel_uploads` connections) and the
/// inbox's long poll each get their own connections, so an urgent document is never queued behind
/// a large upload or a poll that is waiting.
package final class RelayClient: HubTransport {
    package struct Settings: Sendable {
        package var baseURL: String
        package var caFile: String
        package var certificateFile: String
        package var keyFile: String
        package var connectTimeout: Duration
        package var idleTimeout: Duration
        /// Connections of the general (ordinary-lane) client: one per upload worker.
        package var parallelUploads: Int

        package init(_ upstream: GatewayConfiguration.Upstream) throws(RelayError) {
            guard let url = upstream.url, let ca = upstream.caFile, let certificate = upstream.certificateFile, let key = upstream.keyFile else {
                throw RelayError(kind: .permanent, code: .notConfigured, vi: "Chưa cấu hình [upstream]", en: "[upstream] is not configured")
            }
            baseURL = url
            caFile = ca
            certificateFile = certificate
            keyFile = key
            connectTimeout = upstream.connectTimeout
            idleTimeout = upstream.idleTimeout
            parallelUploads = upstream.parallelUploads
        }
    }

    package let settings: Settings
    let express: HTTPClient
    let general: HTTPClient
    let poller: HTTPClient
    /// The relay's own event loop: every connection of the three clients is on it, so an upload's
    /// file reads can be paced by it (`FileChunks.pacer`). One thread is plenty for a link of a
    /// few Mbit/s, and measured at over 100 MB/s on loopback.
    let loops: MultiThreadedEventLoopGroup
    var loop: EventLoop { loops.any() }
    let ioPool: NIOThreadPool
    let logger: Logger
    /// The time `Retry-After` dates are read against.
    let now: @Sendable () -> Date

    /// `identity`: the box's certificate as the daemon holds it, switched by a renewal for new
    /// connections (`BoxIdentity`); nil reads the settings' files once.
    package init(settings: Settings, ioPool: NIOThreadPool, logger: Logger, identity: BoxIdentity? = nil,
                 now: @escaping @Sendable () -> Date = { Date() }) throws(RelayError) {
        self.settings = settings
        self.now = now
        self.logger = logger
        self.ioPool = ioPool
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuites = TLSPolicy.tls12CipherSuites  // ECDHE and AEAD only, as the hub
        tls.certificateVerification = .fullVerification  // chain to the configured CA and the host name
        tls.trustRoots = .file(settings.caFile)
        // Waiting the default 5 s for the hub's close_notify made every daemon stop 5 s longer;
        // HTTP's own framing already tells us an answer was complete.
        tls.shutdownTimeout = .seconds(1)
        if let identity {
            identity.apply(to: &tls)
        } else { do {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(settings.certificateFile).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: settings.keyFile, format: .pem))
        } catch {
            throw RelayError(kind: .untrusted, code: .boxCertificate,
                             vi: "Không đọc được chứng thư số hoặc khóa của hộp (\(settings.certificateFile), \(settings.keyFile)): \(error)",
                             en: "Cannot read the box's certificate or key (\(settings.certificateFile), \(settings.keyFile)): \(error)")
        } }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, decompression: .disabled)
        var timeout = HTTPClient.Configuration.Timeout(connect: .nanoseconds(Int64(settings.connectTimeout.nanoseconds)),
                                                       read: .nanoseconds(Int64(settings.idleTimeout.nanoseconds)))
        // A black-holed link during an upload shows as writes that never drain.
        timeout.write = .nanoseconds(Int64(settings.idleTimeout.nanoseconds))
        configuration.timeout = timeout
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1)
        // A failed connection fails the request at once: the relay's RetrySchedule (full jitter,
        // cap, Retry-After) is the one backoff. AsyncHTTPClient's own would hold the request and
        // retry on a private timer that grows with every failure (to 60 s), so after hours
        // offline the box noticed the link's return seconds late (seen in scripts/bench-relay).
        configuration.connectionPool.retryConnectionEstablishment = false
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.loops = loops
        express = HTTPClient(eventLoopGroupProvider: .shared(loops), configuration: configuration)
        var generalConfiguration = configuration
        generalConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = settings.parallelUploads
        general = HTTPClient(eventLoopGroupProvider: .shared(loops), configuration: generalConfiguration)
        var pollConfiguration = configuration
        // The long poll is silent for up to `wait` seconds by design.
        pollConfiguration.timeout.read = .seconds(Int64(max(75, settings.idleTimeout.components.seconds)))
        poller = HTTPClient(eventLoopGroupProvider: .shared(loops), configuration: pollConfiguration)
    }

    package func shutdown() async {
        for client in [express, general, poller] { try? await client.shutdown() }
        try? await loops.shutdownGracefully()
    }

    func client(_ worker: UploadWorker) -> HTTPClient { worker == .express ? express : general }

    // MARK: Exchanges

    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// One request whose answer is small (receipts, JSON, errors: capped at 1 MiB).
    func exchange(_ client: HTTPClient, _ request: HTTPClientRequest, deadline: Duration = .seconds(3600)) async throws(RelayError) -> Answer {
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(deadline.nanoseconds)), logger: logger)
            let body = try await response.body.collect(upTo: 1 << 20)
            return Answer(status: Int(response.status.code), headers: response.headers, body: Array(buffer: body))
        } catch {
            throw await connectionFailure(error)
        }
    }

    /// A failed exchange as a RelayError; a TLS failure is explained by `HubTLSDiagnosis` (which
    /// certificate, and what is wrong with it) where it can be.
    func connectionFailure(_ error: any Error) async -> RelayError {
        let failure = RelayError.connection(error)
        guard failure.code == .tls, let finding = await HubTLSDiagnosis.diagnose(settings: settings, now: now()) else { return failure }
        return RelayError(kind: .untrusted, code: .tls, vi: "Không thiết lập được kết nối TLS với cấp trên: \(finding.vi)",
                          en: "TLS with the hub failed: \(finding.en)")
    }

    func request(_ path: String, method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: settings.baseURL + path)
        request.method = method
        request.headers.add(name: "User-Agent", value: "gatewayd/\(GatewayVersion.current)")
        return request
    }

    func failure(_ answer: Answer) -> RelayError {
        .fromHub(status: answer.status, body: answer.body, retryAfter: RetryAfter.parse(answer.headers.first(name: RelayWire.Header.retryAfter), now: now()))
    }

    /// `POST /v1/packages`: the whole package in one request (small packages). Returns the receipt.
    package func submitWhole(path: String, size: Int64, auditHead: AuditAnchor?, worker: UploadWorker) async throws(RelayError) -> [UInt8] {
        var request = request("/v1/packages", method: .POST)
        request.headers.add(name: "Content-Type", value: RelayWire.packageContentType)
        if let auditHead { request.headers.add(name: RelayWire.Header.auditHead, value: auditHead.wire) }
        // Whole submissions are small (RelayService.Settings.wholeSubmissionLimit): one buffer.
        do { request.body = .bytes(try await FileChunks(ioPool: ioPool, path: path, from: 0, to: size).readWhole()) } catch {
            throw RelayError(kind: .transient, code: .store, vi: "Không đọc được gói \(path): \(error)", en: "Cannot read the package \(path): \(error)")
        }
        let answer = try await exchange(client(worker), request)
        guard answer.status == 200 || answer.status == 201 else { throw failure(answer) }
        return answer.body
    }

    /// `POST /v1/uploads`: a new tus upload. Returns its path.
    package func createUpload(length: Int64, key: String, sha256: String, auditHead: AuditAnchor?, worker: UploadWorker) async throws(RelayError) -> String {
        var request = request("/v1/uploads", method: .POST)
        request.headers.add(name: RelayWire.Header.tusResumable, value: RelayWire.tusVersion)
        request.headers.add(name: RelayWire.Header.uploadLength, value: String(length))
        var metadata = "key \(Data(key.utf8).base64EncodedString()),sha256 \(Data(sha256.utf8).base64EncodedString())"
        if let auditHead { metadata += ",\(RelayWire.auditHeadMetadataKey) \(Data(auditHead.wire.utf8).base64EncodedString())" }
        request.headers.add(name: RelayWire.Header.uploadMetadata, value: metadata)
        request.headers.add(name: "Content-Length", value: "0")
        let answer = try await exchange(client(worker), request)
        guard answer.status == 201 else { throw failure(answer) }
        guard let location = answer.headers.first(name: RelayWire.Header.location) else { throw .protocolViolation("201 without Location") }
        return Self.path(of: location)
    }

    /// `HEAD <upload>`: where to continue.
    package func probeUpload(_ uploadPath: String, worker: UploadWorker) async throws(RelayError) -> HubProbeResult {
        var request = request(uploadPath, method: .HEAD)
        request.headers.add(name: RelayWire.Header.tusResumable, value: RelayWire.tusVersion)
        let answer = try await exchange(client(worker), request)
        if answer.status == 404 { return .gone }
        guard answer.status == 200 else { throw failure(answer) }
        guard let offset = answer.headers.first(name: RelayWire.Header.uploadOffset).flatMap(Int64.init) else {
            throw .protocolViolation("HEAD without Upload-Offset")
        }
        return .offset(offset, length: answer.headers.first(name: RelayWire.Header.uploadLength).flatMap(Int64.init))
    }

    /// `PATCH <upload>` with the package from `offset` to its end, streamed from disk.
    package func patchUpload(_ uploadPath: String, file: String, offset: Int64, length: Int64, worker: UploadWorker) async throws(RelayError) -> HubPatchResult {
        var request = request(uploadPath, method: .PATCH)
        request.headers.add(name: RelayWire.Header.tusResumable, value: RelayWire.tusVersion)
        request.headers.add(name: "Content-Type", value: RelayWire.tusPatchContentType)
        request.headers.add(name: RelayWire.Header.uploadOffset, value: String(offset))
        request.body = .stream(FileChunks(ioPool: ioPool, path: file, from: offset, to: length, pacer: loop), length: .known(length - offset))
        // No overall deadline to speak of: a slow link may take hours for a large package; the
        // idle timeouts catch a dead one.
        let answer = try await exchange(client(worker), request, deadline: .seconds(24 * 3600))
        if answer.status == 404 { return .gone }
        guard answer.status == 204 else {
            let error = failure(answer)
            if error.code == .hub(.offsetMismatch) { return .offsetMismatch }
            throw error
        }
        guard let newOffset = answer.headers.first(name: RelayWire.Header.uploadOffset).flatMap(Int64.init) else {
            throw .protocolViolation("PATCH answer without Upload-Offset")
        }
        return .accepted(offset: newOffset, receiptPath: answer.headers.first(name: RelayWire.Header.hubReceipt).map(Self.path(of:)))
    }

    /// `GET <receipt>`.
    package func fetchReceipt(_ receiptPath: String, worker: UploadWorker) async throws(RelayError) -> [UInt8] {
        let answer = try await exchange(client(worker), request(receiptPath, method: .GET))
        guard answer.status == 200 else { throw failure(answer) }
        return answer.body
    }

    // MARK: Directory

    /// `GET /v1/directory`: the agencies the hub knows, codes and names.
    package func fetchDirectory() async throws(RelayError) -> [AgencyDirectory.Entry] {
        struct Listing: Decodable {
            struct Agency: Decodable { var code: String; var name: String }
            var agencies: [Agency]
        }
        let answer = try await exchange(poller, request("/v1/directory", method: .GET))
        guard answer.status == 200 else { throw failure(answer) }
        do {
            return try JSONDecoder().decode(Listing.self, from: Data(answer.body)).agencies.compactMap { agency in
                AgencyCode(agency.code).map { AgencyDirectory.Entry(code: $0, name: agency.name) }
            }
        } catch {
            throw .protocolViolation("directory is not the expected JSON (\(error))")
        }
    }

    // MARK: Inbox

    /// `GET /v1/inbox?wait=S&after=N`: answers when something newer than `after` is waiting, or
    /// empty after `wait`.
    package func pollInbox(wait: Duration, after: Int64) async throws(RelayError) -> [RelayWaitingItem] {
        let seconds = max(0, min(60, wait.components.seconds))
        let answer = try await exchange(poller, request("/v1/inbox?wait=\(seconds)&after=\(after)", method: .GET), deadline: .seconds(seconds + 60))
        guard answer.status == 200 else { throw failure(answer) }
        do { return try JSONDecoder().decode(RelayWaitingList.self, from: Data(answer.body)).items } catch {
            throw .protocolViolation("inbox list is not the expected JSON (\(error))")
        }
    }

    /// `GET /v1/inbox/{id}` streamed into `file` (created, written, fsynced; not renamed), hashed
    /// on the way. Returns the SHA-256 (hex) and the size.
    package func downloadInboxItem(_ id: Int64, to file: String, maximumSize: Int64) async throws(RelayError) -> (sha256: String, size: Int64) {
        let response: HTTPClientResponse
        do {
            response = try await general.execute(request("/v1/inbox/\(id)", method: .GET), timeout: .hours(6), logger: logger)
        } catch {
            throw await connectionFailure(error)
        }
        guard response.status == .ok else {
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Array(buffer: $0) } ?? []
            throw .fromHub(status: Int(response.status.code), body: body, retryAfter: nil)
        }
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw RelayError(kind: .transient, code: .store, vi: "Không ghi được \(file)", en: "Cannot write \(file): errno \(errno)") }
        defer { close(fd) }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            for try await chunk in response.body {
                size += Int64(chunk.readableBytes)
                guard size <= maximumSize else { throw RelayError.protocolViolation("item larger than \(maximumSize) bytes") }
                // A Result, not a throwing closure: Swift 6.3 crashes on typed throws through withUnsafe….
                let written: Result<Void, SystemCallError> = chunk.withUnsafeReadableBytes { bytes in
                    hasher.update(bufferPointer: bytes)
                    do throws(SystemCallError) { try POSIXFile.writeAll(fd, bytes, path: file) } catch { return .failure(error) }
                    return .success(())
                }
                try written.get()
            }
            try POSIXFile.fsyncFile(fd, path: file)
        } catch let error as RelayError {
            throw error
        } catch let error as SystemCallError {
            throw RelayError(kind: .transient, code: .store, vi: "Lỗi ghi đĩa: \(error)", en: "Disk write failed: \(error)")
        } catch {
            throw .connection(error)
        }
        return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), size)
    }

    /// `POST /v1/inbox/{id}/ack`, only after the item is stored durably.
    package func acknowledgeInboxItem(_ id: Int64) async throws(RelayError) {
        var request = request("/v1/inbox/\(id)/ack", method: .POST)
        request.headers.add(name: "Content-Length", value: "0")
        let answer = try await exchange(general, request)
        guard answer.status == 204 || answer.status == 200 else { throw failure(answer) }
    }

    /// `POST /v1/inbox/{id}/refuse` with the reason as JSON.
    package func refuseInboxItem(_ id: Int64, _ refusal: RelayInboxRefusal) async throws(RelayError) {
        var request = request("/v1/inbox/\(id)/refuse", method: .POST)
        request.headers.add(name: "Content-Type", value: "application/json")
        do { request.body = .bytes(try JSONEncoder().encode(refusal)) } catch { throw .protocolViolation("refusal not encodable: \(error)") }
        let answer = try await exchange(general, request)
        guard answer.status == 204 || answer.status == 200 else { throw failure(answer) }
    }

    /// `POST /v1/inbox/redeliver` with the time as JSON.
    package func requestRedelivery(since: Date) async throws(RelayError) -> RelayRedeliveryAnswer {
        var request = request("/v1/inbox/redeliver", method: .POST)
        request.headers.add(name: "Content-Type", value: "application/json")
        do { request.body = .bytes(try GatewayJSON.encoder.encode(RelayRedeliveryRequest(since: since))) } catch {
            throw .protocolViolation("redelivery request not encodable: \(error)")
        }
        let answer = try await exchange(general, request)
        guard answer.status == 200 else { throw failure(answer) }
        do { return try GatewayJSON.decoder.decode(RelayRedeliveryAnswer.self, from: Data(answer.body)) } catch {
            throw .protocolViolation("redelivery answer is not the expected JSON (\(error))")
        }
    }

    /// `Location` and `Hub-Receipt` may be absolute URLs or paths; requests go to our base URL
    /// either way (the hub is the one we authenticated).
    static func path(of location: String) -> String {
        if location.hasPrefix("/") { return location }
        guard let url = URL(string: location) else { return location }
        return url.path + (url.query.map { "?\($0)" } ?? "")
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
