import DurableFiles
import DocumentModel
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

/// The tus routes (docs/protocol.md, "Resumable uploads"): create, ask the offset, append, and
/// fetch the receipt of a finished upload. The text rules are in `Tus`, acceptance in
/// `PackageIntake`.
extension HubServer {
    static let tusResumable = HTTPField.Name(RelayWire.Header.tusResumable)!
    static let tusVersion = HTTPField.Name(RelayWire.Header.tusVersion)!
    static let tusExtension = HTTPField.Name(RelayWire.Header.tusExtension)!
    static let tusMaxSize = HTTPField.Name(RelayWire.Header.tusMaxSize)!
    static let uploadLength = HTTPField.Name(RelayWire.Header.uploadLength)!
    static let uploadOffset = HTTPField.Name(RelayWire.Header.uploadOffset)!
    static let uploadMetadata = HTTPField.Name(RelayWire.Header.uploadMetadata)!
    static let hubReceipt = HTTPField.Name(RelayWire.Header.hubReceipt)!
    static let uploadExpires = HTTPField.Name(RelayWire.Header.uploadExpires)!

    func addUploadRoutes(to router: Router<HubRequestContext>) {
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
    }

    var uploadQuota: HubStore.UploadTotals {
        .init(uploads: configuration.maxOpenUploadsPerBox, bytes: configuration.maxOpenUploadBytesPerBox)
    }

    /// 429 with what the box holds and what it may (retried later: finishing or expiring its
    /// uploads frees room), logged on one line per ten seconds at most.
    func quotaRefusal(owner: String, held: HubStore.UploadTotals) -> HubError {
        let quota = uploadQuota
        quotaRefusals.refused(["by": "\(owner)", "uploads": "\(held.uploads)", "bytes": "\(held.bytes)",
                               "max_uploads": "\(quota.uploads)", "max_bytes": "\(quota.bytes)"])
        return HubError(.busy,
                        "Hộp này đã giữ quá nhiều tải lên chưa xong tại hub (\(held.uploads) tải lên, \(held.bytes) byte; tối đa \(quota.uploads) và \(quota.bytes) byte): hãy hoàn tất chúng hoặc chờ chúng hết hạn",
                        "This box holds too many unfinished uploads at the hub (\(held.uploads) uploads, \(held.bytes) bytes; at most \(quota.uploads) and \(quota.bytes) bytes): finish them or let them expire")
    }

    /// When an unfinished upload silent since `lastActivity` will be deleted (tus expiration).
    func expiry(after lastActivity: Date) -> String {
        Tus.httpDate(lastActivity.addingTimeInterval(TimeInterval(configuration.uploadExpiryHours) * 3600))
    }

    func createUpload(_ request: Request, owner: String) async throws -> Response {
        try Tus.checkVersion(request.headers[Self.tusResumable])
        let length = try Tus.parseNonNegative(request.headers[Self.uploadLength], name: RelayWire.Header.uploadLength)
        guard length <= configuration.maxPackageBytes else { throw tooLarge() }
        let metadata = try Tus.parseMetadata(request.headers[Self.uploadMetadata])
        _ = try auditHead(metadata[RelayWire.auditHeadMetadataKey], from: "Upload-Metadata \(RelayWire.auditHeadMetadataKey)")
        let id: String
        do {
            id = try await store.createUpload(owner: owner, length: length, metadata: metadata, at: Date(), quota: uploadQuota)
        } catch let reached as HubStore.UploadQuotaReached {
            throw quotaRefusal(owner: owner, held: reached.held)
        }
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
        let offset = try Tus.parseNonNegative(request.headers[Self.uploadOffset], name: RelayWire.Header.uploadOffset)
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
            let response = try await receivePatch(request, upload: upload, offset: offset, owner: owner, channel: context.channel)
            await activeUploads.end(upload.id)
            return response
        } catch let interrupted as Interrupted {
            // Logged once the upload is free again: a client (or a test) that reads this line
            // can resume at once without being told 429.
            await activeUploads.end(upload.id)
            logger.info("upload interrupted", metadata: ["upload.id": "\(upload.id)", "offset": "\(interrupted.offset)", "error": "\(interrupted.cause)"])
            throw interrupted.cause
        } catch {
            await activeUploads.end(upload.id)
            throw error
        }
    }

    /// A PATCH whose body ended early (a broken connection, or shutdown); what arrived is durable.
    private struct Interrupted: Error {
        let offset: Int64
        let cause: any Error
    }

    func offsetMismatch(_ actual: Int64) -> HubError {
        HubError(.offsetMismatch, "Upload-Offset không khớp; hub đã có \(actual) byte", "Upload-Offset does not match; the hub holds \(actual) bytes")
    }

    private func receivePatch(_ request: Request, upload: HubStore.Upload, offset: Int64, owner: String, channel: any Channel) async throws -> Response {
        let path = store.layout.upload(upload.id)
        let file = try AppendingFile(path: path, create: false)
        guard file.size == offset else {
            try? file.finish()
            throw offsetMismatch(file.size)
        }
        do {
            try await bodiesInFlight.transferring(on: channel) {
                for try await buffer in request.body {
                    guard file.size + Int64(buffer.readableBytes) <= upload.length else {
                        throw HubError(.tooLarge, "Dữ liệu vượt quá Upload-Length", "More bytes than Upload-Length")
                    }
                    try buffer.withUnsafeReadableBytes { try file.append($0) }
                }
            }
        } catch {
            // A broken connection: what arrived is kept (and made durable) for the resumption.
            try? await NIOThreadPool.singleton.runIfActive { try file.finish() }
            throw Interrupted(offset: file.size, cause: error)
        }
        try await NIOThreadPool.singleton.runIfActive { try file.finish() }
        guard file.size == upload.length else { return patchAnswer(upload.id, offset: file.size, complete: false) }
        do {
            let stored = try await accept(temporaryPath: path, size: file.size, role: .box(owner), auditHead: upload.auditHead)
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
}

/// Uploads receiving bytes right now.
actor ActiveUploads {
    private var ids: Set<String> = []
    func begin(_ id: String) -> Bool { ids.insert(id).inserted }
    func end(_ id: String) { ids.remove(id) }
}
