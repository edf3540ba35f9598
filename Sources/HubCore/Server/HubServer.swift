import DocumentModel
import DurableFiles
import EdXML
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// hubd's routes (docs/protocol.md) and the mTLS server that carries them.
public struct HubServer: Sendable {
    let configuration: HubConfiguration
    let store: HubStore
    let receipts: ReceiptSigner
    let signal = WaitingSignal()
    let activeUploads = ActiveUploads()
    let logger: Logger
    let forwarded: ForwardedIdentity
    static let officeQueue = "office"

    public init(configuration: HubConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        store = try HubStore(dataDirectory: configuration.dataDirectory, handoffDirectory: configuration.resolvedHandoffDirectory,
                             agencies: configuration.agencies, logger: logger)
        receipts = try ReceiptSigner(keyFile: configuration.receiptKey ?? configuration.key,
                                     chainFile: configuration.receiptCertificate ?? configuration.certificate,
                                     hubCode: configuration.hubCode, hubName: configuration.hubName)
        forwarded = try ForwardedIdentity(proxyCodes: configuration.proxyCodes, clientCAFile: configuration.clientCA)
    }

    /// TLS 1.2 at least; a client certificate is required and must chain to the configured CA
    /// (no host name check: clients are identified by their CN, not by where they connect from).
    public static func tlsConfiguration(_ configuration: HubConfiguration) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(configuration.certificate).map { NIOSSLCertificateSource.certificate($0) }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: configuration.key, format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .file(configuration.clientCA)
        return tls
    }

    /// The application `hubd serve` runs; tests build the same.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let logger = self.logger
        return Application(
            router: router(),
            server: try .tls(.http1(configuration: .init(additionalChannelHandlers: [TLSRefusalLogger(logger: logger)],
                                                         idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
                             tlsConfiguration: Self.tlsConfiguration(configuration)),
            configuration: .init(address: .hostname(configuration.listenHost, port: configuration.listenPort), serverName: "hubd"),
            services: [UploadExpiry(store: store, expiry: .seconds(Int64(configuration.uploadExpiryHours) * 3600), logger: logger)],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("hubd listening", metadata: ["port": "\(port)"])
                await onRunning(port)
            },
            logger: logger)
    }

    func router() -> Router<HubRequestContext> {
        let router = Router(context: HubRequestContext.self)
        router.middlewares.add(HubErrorMiddleware(logger: logger))
        router.middlewares.add(IdentityMiddleware(store: store, officeCodes: Set(configuration.officeCodes), forwarded: forwarded, logger: logger))
        router.get("/v1/directory") { _, _ in try json(["agencies": try store.directory()]) }
        // Boxes
        router.post("/v1/packages") { request, context in
            let stored = try await receiveWhole(request, role: try box(context))
            return receiptResponse(stored, status: stored.duplicate ? .ok : .created)
        }
        router.on("/v1/uploads", method: .options) { _, _ in
            Response(status: .noContent, headers: [
                Self.tusResumable: Tus.version, Self.tusVersion: Tus.version, Self.tusExtension: Tus.extensions,
                Self.tusMaxSize: "\(configuration.maxPackageBytes)",
            ])
        }
        router.post("/v1/uploads") { request, context in try await createUpload(request, owner: try box(context).code) }
        router.head("/v1/uploads/{id}") { request, context in try await uploadOffset(request, context: context) }
        router.patch("/v1/uploads/{id}") { request, context in try await patchUpload(request, context: context) }
        router.get("/v1/uploads/{id}/receipt") { _, context in
            let upload = try await store.upload(id: try context.parameters.require("id"), owner: try box(context).code)
            if let refusal = upload.refusal { throw refusal }
            guard let packageID = upload.packageID else {
                throw HubError(.offsetMismatch, "Tải lên chưa xong", "The upload is not complete")
            }
            let (receipt, key, sha256) = try await store.receipt(packageID: packageID)
            return receiptResponse(receipt: receipt, key: key, sha256: sha256, duplicate: false, status: .ok)
        }
        router.get("/v1/inbox") { request, context in
            let commune = try box(context).code
            let items = try await longPoll(queue: commune, request: request) { try await store.inbox(commune: commune) }
            return try json(RelayWaitingList(items: items))
        }
        router.get("/v1/inbox/{id}") { _, context in
            let package = try await store.inboxPackage(commune: try box(context).code, id: try context.parameters.require("id", as: Int64.self))
            return try await fileResponse(package, context: context)
        }
        router.post("/v1/inbox/{id}/ack") { _, context in
            let commune = try box(context).code
            let id = try context.parameters.require("id", as: Int64.self)
            try await store.acknowledgeInbox(commune: commune, id: id, at: Date())
            logger.info("inbox item acknowledged", metadata: ["commune": "\(commune)", "inbox.id": "\(id)"])
            return Response(status: .noContent)
        }
        // The document system
        router.get("/office/v1/received") { request, context in
            _ = try office(context)
            let items = try await longPoll(queue: Self.officeQueue, request: request) { try await store.handoff() }
            return try json(RelayWaitingList(items: items))
        }
        router.get("/office/v1/received/{id}") { _, context in
            _ = try office(context)
            return try await fileResponse(try await store.handoffPackage(id: try context.parameters.require("id", as: Int64.self)), context: context)
        }
        router.post("/office/v1/received/{id}/ack") { _, context in
            _ = try office(context)
            try await store.acknowledgeHandoff(id: try context.parameters.require("id", as: Int64.self), at: Date())
            return Response(status: .noContent)
        }
        router.post("/office/v1/packages") { request, context in
            let stored = try await receiveWhole(request, role: try office(context))
            struct Posted: Encodable { let key: String; let sha256: String; let duplicate: Bool; let deliveries: [HubStore.Delivery] }
            return try json(Posted(key: stored.key, sha256: stored.sha256, duplicate: stored.duplicate, deliveries: stored.deliveries),
                            status: stored.duplicate ? .ok : .created)
        }
        router.get("/office/v1/deliveries/{id}") { _, context in
            _ = try office(context)
            return try json(try await store.delivery(id: try context.parameters.require("id", as: Int64.self)))
        }
        return router
    }

    // MARK: roles

    func box(_ context: HubRequestContext) throws(HubError) -> Role {
        guard let role = context.role, case .box = role else { throw HubError.forbiddenRoute() }
        return role
    }

    func office(_ context: HubRequestContext) throws(HubError) -> Role {
        guard let role = context.role, case .office = role else { throw HubError.forbiddenRoute() }
        return role
    }

    // MARK: receiving packages

    /// A whole package in one request body, streamed to a temporary file.
    func receiveWhole(_ request: Request, role: Role) async throws -> HubStore.StoredPackage {
        if let declared = request.headers[.contentLength].flatMap({ Int64($0) }), declared > configuration.maxPackageBytes {
            throw tooLarge()
        }
        let path = store.newTemporaryPath()
        let file = try AppendingFile(path: path, create: true)
        do {
            for try await buffer in request.body {
                try buffer.withUnsafeReadableBytes { try file.append($0) }
                if file.size > configuration.maxPackageBytes { throw tooLarge() }
            }
            try await NIOThreadPool.singleton.runIfActive { try file.finish() }
        } catch {
            try? file.finish()
            POSIXFile.unlinkIfPresent(path)
            throw error
        }
        return try await accept(temporaryPath: path, size: file.size, role: role)
    }

    func tooLarge() -> HubError {
        HubError(.tooLarge, "Gói tin lớn hơn giới hạn \(configuration.maxPackageBytes) byte",
                 "The package is larger than the limit of \(configuration.maxPackageBytes) bytes")
    }

    /// Checks a complete, fsynced file and stores it (or finds it already stored). The temporary
    /// file is consumed in every case: stored, or removed.
    func accept(temporaryPath: String, size: Int64, role: Role) async throws -> HubStore.StoredPackage {
        let summary: PackageSummary
        let sha256: String
        let routing: Routing
        do {
            sha256 = try await NIOThreadPool.singleton.runIfActive { try POSIXFile.sha256(ofFile: temporaryPath).sha256 }
            let read: ReadResult
            do { read = try await PackageReader.read(path: temporaryPath) } catch {
                throw HubError(.unreadablePackage, "Không đọc được gói edXML: \(error)", "Not a readable edXML package: \(error)")
            }
            summary = try PackageSummary(read.package)
            let served = try store.servedCommunes()
            switch role {
            case .box(let code):
                try summary.checkSender(certificateCode: code)
                routing = Routing.fromBox(summary, served: served)
            case .office:
                routing = try Routing.fromOffice(summary, served: served)
            }
            if let existing = try await store.existing(from: summary.from, key: summary.key) {
                guard existing.sha256 == sha256 else {
                    throw HubError(.keyConflict, "Hub đã nhận một gói khác với cùng mã \(summary.key) (SHA-256 \(existing.sha256))",
                                   "The hub already holds a different package under \(summary.key) (SHA-256 \(existing.sha256))")
                }
                POSIXFile.unlinkIfPresent(temporaryPath)
                return HubStore.StoredPackage(id: existing.id, key: summary.key, sha256: sha256, size: size, receipt: existing.receipt,
                                              duplicate: true, deliveries: [])
            }
        } catch {
            POSIXFile.unlinkIfPresent(temporaryPath)
            throw error
        }
        let receivedAt = Date()
        let receipt = try await receipts.sign(summary: summary, sha256: sha256, size: size, receivedAt: receivedAt)
        let stored = try await store.commit(temporaryPath: temporaryPath, summary: summary, sha256: sha256, size: size,
                                            submittedBy: role.code, receivedAt: receivedAt, receipt: receipt, routing: routing)
        if !stored.duplicate {
            logger.info("package stored", metadata: [
                "package.key": "\(summary.key)", "package.kind": "\(summary.kind.rawValue)", "from": "\(summary.from)",
                "by": "\(role.code)", "size": "\(size)", "inboxes": "\(routing.communes.joined(separator: ","))", "handoff": "\(routing.handOff)",
            ])
            for commune in routing.communes { await signal.bump(commune) }
            if routing.handOff { await signal.bump(Self.officeQueue) }
        }
        return stored
    }

    // MARK: tus

    static let tusResumable = HTTPField.Name("Tus-Resumable")!
    static let tusVersion = HTTPField.Name("Tus-Version")!
    static let tusExtension = HTTPField.Name("Tus-Extension")!
    static let tusMaxSize = HTTPField.Name("Tus-Max-Size")!
    static let uploadLength = HTTPField.Name("Upload-Length")!
    static let uploadOffset = HTTPField.Name("Upload-Offset")!
    static let uploadMetadata = HTTPField.Name("Upload-Metadata")!
    static let hubReceipt = HTTPField.Name("Hub-Receipt")!
    static let uploadExpires = HTTPField.Name("Upload-Expires")!

    /// When an unfinished upload silent since `lastActivity` will be deleted (tus expiration).
    func expiry(after lastActivity: Date) -> String {
        Tus.httpDate(lastActivity.addingTimeInterval(TimeInterval(configuration.uploadExpiryHours) * 3600))
    }

    func createUpload(_ request: Request, owner: String) async throws -> Response {
        try Tus.checkVersion(request.headers[Self.tusResumable])
        let length = try Tus.parseNonNegative(request.headers[Self.uploadLength], name: "Upload-Length")
        guard length <= configuration.maxPackageBytes else { throw tooLarge() }
        let metadata = try Tus.parseMetadata(request.headers[Self.uploadMetadata])
        let id = try await store.createUpload(owner: owner, length: length, metadata: metadata, at: Date())
        logger.info("upload created", metadata: ["upload.id": "\(id)", "by": "\(owner)", "length": "\(length)", "key": "\(metadata["key"] ?? "")"])
        return Response(status: .created, headers: [.location: "/v1/uploads/\(id)", Self.tusResumable: Tus.version,
                                                     Self.uploadExpires: expiry(after: Date())])
    }

    func uploadOffset(_ request: Request, context: HubRequestContext) async throws -> Response {
        try Tus.checkVersion(request.headers[Self.tusResumable])
        let upload = try await store.upload(id: try context.parameters.require("id"), owner: try box(context).code)
        let finished = upload.packageID != nil || upload.refusal != nil
        let offset = finished ? upload.length : (POSIXFile.size(store.layout.upload(upload.id)) ?? 0)
        var headers: HTTPFields = [
            Self.uploadOffset: "\(offset)", Self.uploadLength: "\(upload.length)", .cacheControl: "no-store", Self.tusResumable: Tus.version,
        ]
        if !finished, let last = store.lastActivity(ofUpload: upload.id) { headers[Self.uploadExpires] = expiry(after: last) }
        return Response(status: .ok, headers: headers)
    }

    func patchUpload(_ request: Request, context: HubRequestContext) async throws -> Response {
        try Tus.checkVersion(request.headers[Self.tusResumable])
        guard request.headers[.contentType]?.lowercased().hasPrefix(Tus.patchContentType) == true else {
            throw HubError(.contentType, "PATCH cần Content-Type: \(Tus.patchContentType)", "PATCH needs Content-Type: \(Tus.patchContentType)")
        }
        let offset = try Tus.parseNonNegative(request.headers[Self.uploadOffset], name: "Upload-Offset")
        let owner = try box(context).code
        let upload = try await store.upload(id: try context.parameters.require("id"), owner: owner)
        if let refusal = upload.refusal { throw refusal }
        if upload.packageID != nil {
            // Already complete: a repeated last PATCH (its answer was lost) is answered again.
            guard offset == upload.length else { throw offsetMismatch(upload.length) }
            return patchAnswer(upload.id, offset: upload.length, complete: true)
        }
        // One PATCH at a time per upload: a second one (a client that reconnected before the hub
        // noticed the first connection break) is told to ask again shortly.
        guard await activeUploads.begin(upload.id) else {
            throw HubError(.busy, "Tải lên này đang nhận dữ liệu trên một kết nối khác", "This upload is receiving on another connection")
        }
        do {
            let response = try await receivePatch(request, upload: upload, offset: offset, owner: owner)
            await activeUploads.end(upload.id)
            return response
        } catch {
            await activeUploads.end(upload.id)
            throw error
        }
    }

    func offsetMismatch(_ actual: Int64) -> HubError {
        HubError(.offsetMismatch, "Upload-Offset không khớp; hub đã có \(actual) byte", "Upload-Offset does not match; the hub holds \(actual) bytes")
    }

    private func receivePatch(_ request: Request, upload: HubStore.Upload, offset: Int64, owner: String) async throws -> Response {
        let path = store.layout.upload(upload.id)
        let file = try AppendingFile(path: path, create: false)
        guard file.size == offset else {
            try? file.finish()
            throw offsetMismatch(file.size)
        }
        do {
            for try await buffer in request.body {
                guard file.size + Int64(buffer.readableBytes) <= upload.length else {
                    throw HubError(.tooLarge, "Dữ liệu vượt quá Upload-Length", "More bytes than Upload-Length")
                }
                try buffer.withUnsafeReadableBytes { try file.append($0) }
            }
        } catch {
            // A broken connection: what arrived is kept (and made durable) for the resumption.
            try? await NIOThreadPool.singleton.runIfActive { try file.finish() }
            logger.info("upload interrupted", metadata: ["upload.id": "\(upload.id)", "offset": "\(file.size)", "error": "\(error)"])
            throw error
        }
        try await NIOThreadPool.singleton.runIfActive { try file.finish() }
        guard file.size == upload.length else { return patchAnswer(upload.id, offset: file.size, complete: false) }
        do {
            let stored = try await accept(temporaryPath: path, size: file.size, role: .box(owner))
            try await store.finishUpload(id: upload.id, packageID: stored.id, refusal: nil)
        } catch {
            // The package itself is refused: that stays the upload's answer (the bytes are gone).
            if let refusal = error as? HubError, !refusal.code.retry {
                try await store.finishUpload(id: upload.id, packageID: nil, refusal: refusal)
            }
            throw error
        }
        return patchAnswer(upload.id, offset: file.size, complete: true)
    }

    func patchAnswer(_ id: String, offset: Int64, complete: Bool) -> Response {
        var headers: HTTPFields = [Self.uploadOffset: "\(offset)", Self.tusResumable: Tus.version]
        if complete { headers[Self.hubReceipt] = "/v1/uploads/\(id)/receipt" } else { headers[Self.uploadExpires] = expiry(after: Date()) }
        return Response(status: .noContent, headers: headers)
    }

    // MARK: answers

    static let packageKey = HTTPField.Name("Hub-Package-Key")!
    static let packageSHA256 = HTTPField.Name("Hub-Package-SHA256")!
    static let duplicateHeader = HTTPField.Name("Hub-Duplicate")!
    /// RFC 3986 unreserved characters, ASCII only: `.alphanumerics` would let "Đ" through into a header.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    func receiptResponse(_ stored: HubStore.StoredPackage, status: HTTPResponse.Status) -> Response {
        receiptResponse(receipt: stored.receipt, key: stored.key, sha256: stored.sha256, duplicate: stored.duplicate, status: status)
    }

    func receiptResponse(receipt: [UInt8], key: String, sha256: String, duplicate: Bool, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [
            .contentType: "application/pkcs7-mime; smime-type=signed-data",
            Self.packageKey: key.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? "",
            Self.packageSHA256: sha256, Self.duplicateHeader: duplicate ? "true" : "false",
        ], body: .init(byteBuffer: ByteBuffer(bytes: receipt)))
    }

    func fileResponse(_ package: (path: String, sha256: String, size: Int64), context: HubRequestContext) async throws -> Response {
        let body = try await FileIO().loadFile(path: package.path, context: context)
        return Response(status: .ok, headers: [
            .contentType: "application/xml", Self.packageSHA256: package.sha256,
        ], body: body)
    }

    func longPoll(queue: String, request: Request, list: () async throws -> [RelayWaitingItem]) async throws -> [RelayWaitingItem] {
        var wait = 0
        if let text = request.uri.queryParameters.get("wait") {
            guard let value = Int(text), (0...configuration.maxWaitSeconds).contains(value) else {
                throw HubError(.badRequest, "wait phải từ 0 đến \(configuration.maxWaitSeconds)", "wait must be 0–\(configuration.maxWaitSeconds)")
            }
            wait = value
        }
        let deadline = ContinuousClock.now + .seconds(wait)
        while true {
            // Read the generation before the list: anything queued after the list was read
            // has bumped it, so the wait below cannot miss it.
            let seen = await signal.generation(queue)
            let items = try await list()
            let now = ContinuousClock.now
            if !items.isEmpty || now >= deadline { return items }
            await signal.wait(queue, seen: seen, timeout: deadline - now)
        }
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Uploads receiving bytes right now.
actor ActiveUploads {
    private var ids: Set<String> = []
    func begin(_ id: String) -> Bool { ids.insert(id).inserted }
    func end(_ id: String) { ids.remove(id) }
}

/// Gives every request its role from the client certificate — the connection's, or the one a
/// configured front proxy forwarded — or refuses it.
struct IdentityMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let store: HubStore
    let officeCodes: Set<String>
    let forwarded: ForwardedIdentity
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var name = try await ClientIdentity.commonName(channel: context.channel)
        do {
            switch try forwarded.decide(connectionCommonName: name, headerValues: request.headers[values: ForwardedIdentity.header]) {
            case .direct: break
            case .forwarded(let certificate):
                try await forwarded.verify(certificate, now: Date())
                name = ClientIdentity.commonName(certificate)
            }
        } catch {
            // A forged header or a misconfigured proxy: the hub's technician should see it.
            logger.warning("forwarded identity refused", metadata: ["connection": "\(name ?? "")", "error": "\(error)"])
            throw error
        }
        context.role = try ClientIdentity.role(commonName: name, served: try store.servedCommunes(), officeCodes: officeCodes)
        return try await next(request, context)
    }
}

/// Turns every error into the JSON error body of docs/protocol.md; unexpected ones are logged and
/// answered without their details.
struct HubErrorMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HubError {
            if error.code.retry { logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"]) }
            var response = Self.body(error)
            // tus core: every answer on the upload routes says which version the server speaks.
            if request.uri.path.hasPrefix("/v1/uploads") { response.headers[HubServer.tusResumable] = Tus.version }
            return response
        } catch let error as HTTPError where error.status == .notFound {
            return Self.body(HubError.notFound("đường dẫn / route"))
        } catch let error as HTTPError where error.status.code < 500 {
            return Self.body(HubError(.badRequest, "Yêu cầu không hợp lệ", error.body ?? "Bad request"))
        } catch let error as SystemCallError {
            logger.error("storage failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return Self.body(HubError(.storage, "Hub không ghi được vào đĩa; thử lại sau", "The hub could not write to its disk; try again later"))
        } catch {
            logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return Self.body(HubError(.internal, "Lỗi nội bộ của hub; xem nhật ký hubd", "Internal error in the hub; see the hubd log"))
        }
    }

    static func body(_ error: HubError) -> Response {
        struct Body: Encodable {
            struct Inner: Encodable {
                let code: String
                let retry: Bool
                let message_vi: String
                let message_en: String
                let message: String
            }
            let error: Inner
        }
        let body = Body(error: .init(code: error.code.rawValue, retry: error.code.retry, message_vi: error.vi, message_en: error.en,
                                     message: "\(error.vi) / \(error.en)"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = (try? encoder.encode(body)) ?? Data()
        data.append(0x0A)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let seconds = error.code.retryAfterSeconds { headers[.retryAfter] = "\(seconds)" }
        return Response(status: HTTPResponse.Status(code: error.code.httpStatus), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
