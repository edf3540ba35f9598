import DurableFiles
import DocumentModel
import EdXML
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

/// Package intake: a whole package in one request body (`POST /v1/packages`, and the office's
/// `POST /office/v1/packages`), and the acceptance every package goes through, tus ones included.
extension HubServer {
    func addPackageRoutes(to router: Router<HubRequestContext>) {
        router.post("/v1/packages") { request, context in
            let auditHead = try auditHead(request.headers[Self.auditHeadHeader], from: RelayWire.Header.auditHead)
            let stored = try await receiveWhole(request, role: try box(context), channel: context.channel, auditHead: auditHead)
            return receiptResponse(stored, status: stored.duplicate ? .ok : .created)
        }
    }

    static let auditHeadHeader = HTTPField.Name(RelayWire.Header.auditHead)!

    /// The box's audit anchor, when it sent one: strict (`AuditAnchor(wire:)`), a malformed one is
    /// refused rather than signed or dropped.
    func auditHead(_ text: String?, from field: String) throws(HubError) -> AuditAnchor? {
        guard let text else { return nil }
        guard let anchor = AuditAnchor(wire: text) else {
            throw HubError(.badRequest, "\(field) không hợp lệ (cần SỐ:SHA-256 chữ thường)", "\(field) is malformed (NUMBER:lowercase SHA-256 expected)")
        }
        return anchor
    }

    /// A whole package in one request body, streamed to a temporary file.
    func receiveWhole(_ request: Request, role: Role, channel: any Channel, auditHead: AuditAnchor? = nil) async throws -> HubStore.StoredPackage {
        if let declared = request.headers[.contentLength].flatMap({ Int64($0) }), declared > configuration.maxPackageBytes {
            throw tooLarge()
        }
        let path = store.newTemporaryPath()
        let file = try AppendingFile(path: path, create: true)
        do {
            try await bodiesInFlight.transferring(on: channel) {
                for try await buffer in request.body {
                    try buffer.withUnsafeReadableBytes { try file.append($0) }
                    if file.size > configuration.maxPackageBytes { throw tooLarge() }
                }
            }
            try await NIOThreadPool.singleton.runIfActive { try file.finish() }
        } catch {
            try? file.finish()
            POSIXFile.unlinkIfPresent(path)
            throw error
        }
        return try await accept(temporaryPath: path, size: file.size, role: role, auditHead: auditHead)
    }

    /// A box's status only about a document the hub delivered to that box (or that it refused):
    /// otherwise any enrolled box could answer "02 refused" for another commune's document.
    func checkRecipient(_ summary: PackageSummary, commune: String) async throws {
        guard summary.kind == .status else { return }
        let about = summary.about ?? "", sender = summary.recipients.first ?? ""
        guard try await store.wasDelivered(documentKey: about, from: sender, to: commune) else {
            throw HubError(.notARecipient, "Hub chưa chuyển văn bản \(about) của \(sender) cho \(commune): không nhận trạng thái của đơn vị này về văn bản đó",
                           "The hub never delivered \(about) from \(sender) to \(commune): it takes no status from \(commune) about it")
        }
    }

    func tooLarge() -> HubError {
        HubError(.tooLarge, "Gói tin lớn hơn giới hạn \(configuration.maxPackageBytes) byte",
                 "The package is larger than the limit of \(configuration.maxPackageBytes) bytes")
    }

    /// Checks a complete, fsynced file and stores it (or finds it already stored). The temporary
    /// file is consumed in every case: stored, or removed. `auditHead` is signed into the receipt
    /// of a package stored now; a duplicate keeps the receipt it was first given.
    func accept(temporaryPath: String, size: Int64, role: Role, auditHead: AuditAnchor? = nil) async throws -> HubStore.StoredPackage {
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
            try PackageSummary.checkFields(read.findings)
            let served = try store.servedCommunes()
            switch role {
            case .box(let code):
                try summary.checkSender(certificateCode: code)
                try await checkRecipient(summary, commune: code)
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
        let receipt = try await receipts.sign(summary: summary, sha256: sha256, size: size, receivedAt: receivedAt, auditHead: auditHead)
        let stored = try await store.commit(temporaryPath: temporaryPath, summary: summary, sha256: sha256, size: size,
                                            submittedBy: role.code, receivedAt: receivedAt, receipt: receipt, routing: routing)
        if !stored.duplicate {
            logger.info("package stored", metadata: [
                "package.key": "\(summary.key)", "package.kind": "\(summary.kind.rawValue)", "from": "\(summary.from)",
                "by": "\(role.code)", "size": "\(size)", "inboxes": "\(routing.communes.joined(separator: ","))", "handoff": "\(routing.handOff)",
            ])
            for commune in routing.communes { signals.notify(commune) }
            if routing.handOff { signals.notify(Self.officeQueue) }
        }
        return stored
    }
}
