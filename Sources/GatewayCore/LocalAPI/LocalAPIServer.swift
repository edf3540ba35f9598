import DocumentModel
import DurableFiles
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TimeJSON

/// The local API's routes (docs/local-api.md). Served on the Unix socket and, if configured, on
/// a TCP address; the same router for both.
package struct LocalAPI: Sendable {
    let store: DocumentStore
    let parser: MetadataParser
    let hotFolder: HotFolderIntake?
    let tokens: (any TokenStatusSource)?
    let relay: RelayService?
    /// The signing stage; nil when the daemon runs without token support.
    let signing: SigningStage?
    /// How a submission's `"signed": true` is checked before it is committed.
    let signedClaims: SignedClaimCheck
    package let queries: LocalAPIQueries
    /// The checks and commit shared with the console's upload form.
    let intake: DocumentIntake
    /// Attachments posted ahead of their document (`POST /v1/attachments`).
    let uploads = AttachmentUploads()
    let startedAt: Date
    let logger: Logger

    package init(store: DocumentStore, parser: MetadataParser, hotFolder: HotFolderIntake?, tokens: (any TokenStatusSource)? = nil,
                relay: RelayService? = nil, signing: SigningStage? = nil, signedClaims: SignedClaimCheck = .unconfigured,
                startedAt: Date = Date(), logger: Logger) {
        self.relay = relay
        self.signedClaims = signedClaims
        self.signing = signing
        self.store = store
        self.queries = LocalAPIQueries(store: store)
        self.intake = DocumentIntake(store: store, parser: parser, signedClaims: signedClaims)
        self.parser = parser
        self.hotFolder = hotFolder
        self.tokens = tokens
        self.startedAt = startedAt
        self.logger = logger
    }

    /// `[api] metrics_listen`'s routes: `GET /metrics` alone (anything else is 404), so the
    /// listener may face the province's monitoring without opening the API to it.
    package func metricsRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(APIErrorMiddleware(logger: logger))
        router.get("/metrics") { _, _ in try await metrics() }
        return router
    }

    /// The routes with their error handling (middleware first: Hummingbird applies a middleware
    /// only to routes added after it). `tokenRoutes`: the Unix socket's router only. Signing any
    /// digest on a token is for the programs on the box the socket's group lets in; `api.tcp`'s
    /// loopback port is open to every local user, so it does not carry those routes.
    package func router(tokenRoutes: Bool = false) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(APIErrorMiddleware(logger: logger))
        router.post("/v1/documents") { request, _ in try await submit(request) }
        router.post("/v1/attachments") { request, _ in try await stageAttachment(request) }
        router.get("/v1/documents") { request, _ in try list(request) }
        router.get("/v1/documents/{id}") { _, context in try show(context.parameters.get("id") ?? "") }
        router.get("/v1/documents/{id}/receipt") { _, context in try receipt(context.parameters.get("id") ?? "") }
        router.get("/v1/status") { _, _ in try await status() }
        router.get("/metrics") { _, _ in try await metrics() }
        router.get("/v1/inbox") { request, _ in try inbox(request) }
        router.get("/v1/inbox/{id}") { _, context in
            let text = context.parameters.get("id") ?? ""
            guard let hubID = Int64(text), let item = try queries.inboxItem(hubID: hubID) else {
                throw APIError(status: .notFound, code: "not_found", vi: "Không có văn bản đến số \(text)", en: "No incoming document \(text)")
            }
            return try json(item)
        }
        router.post("/v1/inbox/{id}/status") { request, context in
            try await clerkStatus(request, hubID: context.parameters.get("id").flatMap(Int64.init))
        }
        router.get("/v1/directory") { _, _ in
            try json(try queries.directory())
        }
        router.post("/v1/store/check") { _, _ in
            let queries = self.queries
            let report = try await store.ioPool.runIfActive { try queries.check(ownsStore: false) }
            return try json(report)
        }
        addSigningRoutes(to: router)
        if tokenRoutes { addTokenSignRoute(to: router) }
        return router
    }

    static let metadataHeader = HTTPField.Name("X-Gateway-Metadata")!
    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!

    package func submit(_ request: Request) async throws -> Response {
        let parsed: MetadataParser.Parsed
        let fileName: String
        var idempotencyKey: String?
        do {
            let header = request.headers[Self.metadataHeader]
            var metadataBytes: [UInt8]?
            if let header {
                guard let data = Data(base64Encoded: header.trimmingCharacters(in: CharacterSet.whitespaces)) else {
                    throw IntakeError.invalidMetadata("tiêu đề X-Gateway-Metadata không phải base64", "the X-Gateway-Metadata header is not base64")
                }
                metadataBytes = Array(data)
            }
            parsed = try parser.parse(metadataBytes)
            fileName = try DocumentIntake.fileName(of: parsed)
            idempotencyKey = try Self.idempotencyKey(request)
            // The attachments were posted under the submission's key (`POST /v1/attachments`).
            if !parsed.metadata.attachmentNames.isEmpty, idempotencyKey == nil {
                throw IntakeError.invalidMetadata(
                    "văn bản có tệp đính kèm cần Idempotency-Key (khóa đã dùng khi gửi các tệp đính kèm)",
                    "a document with attachments needs the Idempotency-Key its attachments were posted with", field: "attachments")
            }
        } catch {
            // Read the body to its end so the client sees our answer, not a reset connection.
            try? await drain(request)
            throw error
        }
        let staged = try await receive(request)
        let contentType = request.headers[.contentType]
        var request = IntakeRequest(fileName: fileName, metadata: parsed.metadata, source: .api,
                                    intakeKey: idempotencyKey.map { "api:\($0)" }, cause: "submitted on the local API as \"\(fileName)\"")
        var retry = false
        if let key = idempotencyKey, !parsed.metadata.attachmentNames.isEmpty, (try? store.document(intakeKey: "api:\(key)")) != nil {
            // A retry of a stored submission: its attachments were committed with it, and the
            // commit answers the first document (or the key's conflict) without them.
            request.metadata.attachments = nil
            retry = true
        }
        let uploads = uploads
        let receipt = try await intake.admit(staged, contentType: contentType, request: request) { () throws(IntakeError) -> [StagedDocument] in
            guard let key = idempotencyKey, !parsed.metadata.attachmentNames.isEmpty, !retry else { return [] }
            // Refused before its attachments are taken, so they stay staged for the next try.
            guard staged.size > 0 else { throw IntakeError.emptyDocument }
            return try uploads.take(key: key, names: parsed.metadata.attachmentNames).get()
        }
        if !receipt.duplicate {
            logger.info("document received on the local API", metadata: [
                "document.id": "\(receipt.document.id)", "file": "\(fileName)", "document.size": "\(receipt.document.size)",
                "attachments": "\(receipt.document.metadata.attachmentNames.count)",
            ])
        }
        return try json(DocumentView(document: receipt.document, duplicate: receipt.duplicate), status: receipt.duplicate ? .ok : .created)
    }

    static let fileNameHeader = HTTPField.Name("X-Gateway-File-Name")!

    /// `POST /v1/attachments`: one attachment of a submission to come, its name in
    /// `X-Gateway-File-Name` (base64 of UTF-8, like the metadata), the submission's
    /// `Idempotency-Key`; the body is the file. Staged, checked like a document (a `.pdf` must be
    /// a PDF the box can sign), and held for the document (`AttachmentUploads`).
    package func stageAttachment(_ request: Request) async throws -> Response {
        let key: String
        let name: String
        do {
            guard let given = try Self.idempotencyKey(request) else {
                throw APIError.badRequest("tệp đính kèm cần Idempotency-Key (khóa của văn bản sẽ gửi sau)",
                                          "an attachment needs the Idempotency-Key its document will be posted with")
            }
            key = given
            guard let header = request.headers[Self.fileNameHeader],
                  let data = Data(base64Encoded: header.trimmingCharacters(in: CharacterSet.whitespaces)) else {
                throw IntakeError.invalidFileName("thiếu tiêu đề X-Gateway-File-Name (base64 của tên tệp)",
                                                  "the X-Gateway-File-Name header (base64 of the file name) is missing or not base64")
            }
            guard let text = String(validating: Array(data), as: UTF8.self) else {
                throw IntakeError.invalidFileName("tên tệp không phải UTF-8", "the name is not UTF-8")
            }
            name = try MetadataParser.attachments(.array([.string(text)]))[0]
        } catch {
            try? await drain(request)
            throw error
        }
        let staged = try await receive(request, attachment: true)
        try await intake.checkAttachment(staged, name: name, contentType: request.headers[.contentType])
        try uploads.put(staged, key: key, name: name)
        return try json(AttachmentStaged(fileName: name, size: staged.size, idempotencyKey: key), status: .accepted)
    }

    /// The `Idempotency-Key` header, checked; nil without one.
    static func idempotencyKey(_ request: Request) throws(APIError) -> String? {
        guard let key = request.headers[Self.idempotencyHeader] else { return nil }
        guard (1...128).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError.badRequest("Idempotency-Key phải gồm 1–128 ký tự ASCII nhìn thấy được", "Idempotency-Key must be 1–128 visible ASCII characters")
        }
        return key
    }

    /// The request's body streamed into a new staged document (or attachment), its announced
    /// length checked; nothing is left behind when it fails.
    func receive(_ request: Request, attachment: Bool = false) async throws -> StagedDocument {
        let expected = request.headers[.contentLength].flatMap { Int64($0) }
        let staged = attachment
            ? try store.beginAttachment(of: store.newDocumentID(), position: 1, expectedSize: expected)
            : try store.beginDocument(expectedSize: expected)
        do {
            for try await buffer in request.body {
                var failure: IntakeError?
                buffer.withUnsafeReadableBytes { raw in
                    do throws(IntakeError) { try staged.append(raw) } catch { failure = error }
                }
                if let failure { throw failure }
            }
        } catch let error as IntakeError {
            staged.discard()
            throw error
        } catch {
            staged.discard()
            throw IntakeError.incompleteUpload(expected: expected ?? -1, received: staged.size)
        }
        if let expected, staged.size != expected {
            staged.discard()
            throw IntakeError.incompleteUpload(expected: expected, received: staged.size)
        }
        return staged
    }

    func drain(_ request: Request) async throws {
        for try await _ in request.body {}
    }

    package func list(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        for (key, _) in query where !["state", "limit", "before"].contains(String(key)) {
            throw APIError.badRequest("tham số không được hỗ trợ \"\(key)\"", "unknown query parameter \"\(key)\"")
        }
        var states: [DocumentState] = []
        for value in query.getAll("state") {
            guard let state = DocumentState(rawValue: String(value)) else {
                throw APIError.badRequest("trạng thái không hợp lệ \"\(value)\"", "unknown state \"\(value)\"; one of \(DocumentState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            states.append(state)
        }
        let limit = try Self.limit(query.get("limit"))
        var before: DocumentID?
        if let text = query.get("before") {
            guard let id = DocumentID(String(text)) else { throw APIError.badRequest("mã văn bản không hợp lệ", "before is not a document id") }
            before = id
        }
        return try json(DocumentList(documents: try queries.documents(states: states, limit: limit, before: before)))
    }

    /// `?limit=N` of the listings: 1–1000, 100 when absent.
    package static func limit(_ text: String?) throws -> Int {
        guard let text else { return 100 }
        guard let value = Int(text), (1...1000).contains(value) else { throw APIError.badRequest("limit phải từ 1 đến 1000", "limit must be 1–1000") }
        return value
    }

    /// What the hub brought down, newest first, with where each document is for the clerks.
    /// `inboxFolder`: where the clerks' files are, when the caller knows better than the relay (the console's API in tests).
    package func inbox(_ request: Request, inboxFolder: String? = nil) throws -> Response {
        let query = request.uri.queryParameters
        for (key, _) in query where key != "limit" {
            throw APIError.badRequest("tham số không được hỗ trợ \"\(key)\"", "unknown query parameter \"\(key)\"")
        }
        let limit = try Self.limit(query.get("limit"))
        return try json(try queries.inbox(limit: limit, inboxFolder: inboxFolder ?? relay?.settings.inboxFolder ?? ""))
    }

    /// A clerk's status about an incoming document (`{"code": "03", "description": …, "staff": …}`):
    /// `202` once recorded durably; the relay sends it.
    func clerkStatus(_ request: Request, hubID: Int64?) async throws -> Response {
        struct Body: Decodable { var code: String; var description: String?; var staff: String? }
        guard let hubID else { throw APIError.badRequest("số nhận không hợp lệ", "the inbox id is not a number") }
        guard let relay else {
            throw APIError(status: .conflict, code: "relay_off", vi: "Chưa cấu hình [upstream]: không gửi được trạng thái",
                           en: "[upstream] is not configured: statuses cannot be sent")
        }
        let bytes = try await request.body.collect(upTo: 64 * 1024)
        let body: Body
        do { body = try JSONDecoder().decode(Body.self, from: Data(buffer: bytes)) } catch {
            throw APIError.badRequest("nội dung phải là JSON {\"code\": \"03\", …}", "the body must be JSON {\"code\": \"03\", …}")
        }
        let recorded: Result<OutgoingStatusRecord, RelayService.ClerkStatusRefusal>
        do { recorded = .success(try await relay.recordClerkStatus(hubID: hubID, code: body.code, description: body.description, staff: body.staff)) }
        catch { recorded = .failure(error) }
        switch recorded {
        case .success(let record):
            return try json(record, status: .accepted)
        case .failure(let error):
            throw APIError(error)
        }
    }

    /// The hub's signed receipt for a delivered document (CMS, DER): the box's proof of delivery,
    /// which `openssl cms -verify -inform DER -CAfile hub-ca.pem` checks without our code.
    func receipt(_ text: String) throws -> Response {
        guard let id = DocumentID(text) else { throw APIError.badRequest("mã văn bản không hợp lệ \"\(text)\"", "\"\(text)\" is not a document id") }
        guard let der = try store.outbound(id)?.receipt else {
            throw APIError(status: .notFound, code: "no_receipt", vi: "Văn bản \(id) chưa có biên nhận của cấp trên",
                           en: "Document \(id) has no receipt from the hub (not delivered yet)")
        }
        return Response(status: .ok, headers: [.contentType: "application/pkcs7-mime; smime-type=signed-data"],
                        body: .init(byteBuffer: ByteBuffer(bytes: der)))
    }

    package func show(_ text: String) throws -> Response {
        guard let id = DocumentID(text) else { throw APIError.badRequest("mã văn bản không hợp lệ \"\(text)\"", "\"\(text)\" is not a document id") }
        guard let view = try queries.document(id) else { throw APIError.notFound(text) }
        return try json(view)
    }

    func status() async throws -> Response { try json(try await daemonStatus()) }

    /// Prometheus text format (`GET /metrics`): the status as gauges, for the province's monitoring.
    func metrics() async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: GatewayMetrics.render(try await daemonStatus(), now: Date()))))
    }

    func daemonStatus() async throws -> DaemonStatus {
        let free = (try? POSIXFile.freeBytes(at: store.layout.dataDirectory)) ?? -1
        var counts: [String: Int] = [:]
        for (state, count) in try store.countsByState() { counts[state.rawValue] = count }
        let snapshot = hotFolder?.snapshot
        let paused = free >= 0 && free < store.limits.diskReserve || snapshot?.pausedForSpace == true
        let status = DaemonStatus(
            version: GatewayVersion.current, pid: getpid(), dataDirectory: store.layout.dataDirectory, startedAt: startedAt,
            uptimeSeconds: Int(Date().timeIntervalSince(startedAt)),
            documentsByState: counts, freeBytes: free, diskReserve: store.limits.diskReserve,
            intake: paused ? "paused_disk_full" : "ok", hotFolder: snapshot, tokens: await tokens?.tokenStatus(), relay: relay?.status(),
            certificate: BoxCertificateStatus.read(dataDirectory: store.layout.dataDirectory, now: Date()))
        return status
    }

    package func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        var data = try GatewayJSON.encoder.encode(value)
        data.append(0x0A)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
