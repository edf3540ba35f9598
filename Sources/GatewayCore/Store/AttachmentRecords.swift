import DurableFiles
import Foundation
import GRDB

/// One attachment (phụ lục) of a document (table `attachment`, migration v9): its name, its
/// current version's size and digest, and once the organization signed it, the detached
/// signature's file (non-PDF) or the signed version (PDF). Also the API's JSON.
package struct AttachmentRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "attachment"

    package var documentId: DocumentID
    /// 1, 2 …: its place in the metadata's `attachments`, and in its file names in `objects/`.
    package var position: Int
    package var fileName: String
    /// 0 as received; 1 once a PDF attachment is signed (PAdES, a new version beside the first).
    package var version: Int = 0
    package var size: Int64
    package var sha256: String
    /// The `.p7s` object of a non-PDF attachment once signed (`StoreLayout.attachmentSignatureName`).
    package var signatureFile: String?
    package var signatureSize: Int64?
    package var signatureSha256: String?
    /// When the organization's signature was committed; nil: not signed yet.
    package var signedAt: Date?

    package init(documentId: DocumentID, position: Int, fileName: String, version: Int = 0, size: Int64, sha256: String,
                 signatureFile: String? = nil, signatureSize: Int64? = nil, signatureSha256: String? = nil, signedAt: Date? = nil) {
        (self.documentId, self.position, self.fileName, self.version, self.size, self.sha256) = (documentId, position, fileName, version, size, sha256)
        (self.signatureFile, self.signatureSize, self.signatureSha256, self.signedAt) = (signatureFile, signatureSize, signatureSha256, signedAt)
    }

    package enum CodingKeys: String, CodingKey, ColumnExpression {
        case documentId = "document_id", position, fileName = "file_name", version, size, sha256
        case signatureFile = "signature_file", signatureSize = "signature_size", signatureSha256 = "signature_sha256"
        case signedAt = "signed_at"
    }
    package typealias Columns = CodingKeys

    package var isSigned: Bool { signedAt != nil }
}

/// An attachment's signature ready to be committed: a signed PDF version or a `.p7s`, written
/// and fsynced under `store/tmp/`.
package struct SignedAttachment: Sendable {
    package enum Kind: Sendable, Equatable {
        /// PAdES: the signed file becomes the attachment's next version.
        case pdfVersion
        /// Detached CAdES: the `.p7s` beside the unchanged attachment.
        case detachedSignature
    }

    package var document: DocumentID
    package var position: Int
    /// The attachment's version the signature was made over: if the row moved on, nothing is kept.
    package var fromVersion: Int
    package var kind: Kind
    package var temporaryPath: String
    package var sha256: String
    package var size: Int64
    /// The audit line (who, which token, which session).
    package var cause: String

    package init(document: DocumentID, position: Int, fromVersion: Int, kind: Kind, temporaryPath: String, sha256: String, size: Int64,
                 cause: String) {
        (self.document, self.position, self.fromVersion, self.kind) = (document, position, fromVersion, kind)
        (self.temporaryPath, self.sha256, self.size, self.cause) = (temporaryPath, sha256, size, cause)
    }
}

extension DocumentStore {
    package func attachments(_ id: DocumentID) throws -> [AttachmentRecord] {
        try database.read { db in try Self.attachments(id, db) }
    }

    static func attachments(_ id: DocumentID, _ db: Database) throws -> [AttachmentRecord] {
        try AttachmentRecord.filter(AttachmentRecord.Columns.documentId == id).order(AttachmentRecord.Columns.position).fetchAll(db)
    }

    /// Where a session writes an attachment's signature before it is committed (in `store/tmp/`,
    /// emptied at startup like the document's signed versions).
    package func attachmentSigningTemporaryPath(_ attachment: AttachmentRecord, kind: SignedAttachment.Kind) -> String {
        let name = switch kind {
        case .pdfVersion: StoreLayout.attachmentName(attachment.documentId, position: attachment.position, version: attachment.version + 1)
        case .detachedSignature: StoreLayout.attachmentSignatureName(attachment.documentId, position: attachment.position)
        }
        return layout.temporaryDirectory + "/" + name + ".part"
    }

    /// Commits one attachment's signature in one transaction with its audit line: the file is
    /// renamed into `objects/` under the writer lock (as `commitSignature` does) and the row marked
    /// signed. The document must still be `awaiting_seal` (it becomes `signed` only with its main
    /// document's seal, after every attachment), and the attachment unsigned at `fromVersion`: a
    /// pulled token or a crash leaves it signed with its file, or untouched.
    @discardableResult
    package func commitAttachmentSignature(_ signed: SignedAttachment, at now: Date) throws -> AttachmentRecord {
        try committingFile(signed.temporaryPath) { db in
            guard let document = try DocumentRecord.fetchOne(db, key: signed.document) else { throw SigningStoreError.noDocument(signed.document) }
            guard document.state == .awaitingSeal,
                  var attachment = try AttachmentRecord.fetchOne(db, key: ["document_id": signed.document.description, "position": signed.position]),
                  attachment.version == signed.fromVersion, !attachment.isSigned else {
                throw SigningStoreError.changed(signed.document, now: document.state)
            }
            switch signed.kind {
            case .pdfVersion:
                let version = attachment.version + 1
                try POSIXFile.rename(signed.temporaryPath, layout.attachmentPath(signed.document, position: signed.position, version: version))
                (attachment.version, attachment.size, attachment.sha256) = (version, signed.size, signed.sha256)
            case .detachedSignature:
                try POSIXFile.rename(signed.temporaryPath, layout.attachmentSignaturePath(signed.document, position: signed.position))
                attachment.signatureFile = StoreLayout.attachmentSignatureName(signed.document, position: signed.position)
                (attachment.signatureSize, attachment.signatureSha256) = (signed.size, signed.sha256)
            }
            try POSIXFile.fsyncDirectory(layout.objectsDirectory)
            attachment.signedAt = now
            try attachment.update(db)
            try Self.appendAudit(signed.document, from: document.state.rawValue, to: document.state.rawValue, at: now,
                                 cause: signed.cause, in: db)
            return attachment
        }
    }

    /// One write that renames `temporaryPath` into `objects/`: the file is removed when the write
    /// fails (nothing refers to it), and those following the store are woken when it succeeds.
    func committingFile<T: Sendable>(_ temporaryPath: String, _ body: (Database) throws -> T) throws -> T {
        let committed: T
        do {
            committed = try database.write(body)
        } catch {
            POSIXFile.unlinkIfPresent(temporaryPath)
            throw error
        }
        changes.notify()
        return committed
    }

    /// Why a document's attachments cannot be trusted without hashing them (a file missing or of
    /// another size than its row says), or nil. For the store's check and recovery.
    func attachmentProblem(_ attachments: [AttachmentRecord]) -> String? {
        for attachment in attachments {
            let id = attachment.documentId
            if let problem = Self.fileProblem(layout.attachmentPath(id, position: attachment.position, version: attachment.version),
                                              size: attachment.size, what: "attachment \(attachment.position) (\(attachment.fileName))") {
                return problem
            }
            if let name = attachment.signatureFile, let size = attachment.signatureSize,
               let problem = Self.fileProblem(layout.objectsDirectory + "/" + name, size: size,
                                              what: "the signature of attachment \(attachment.position) (\(attachment.fileName))") {
                return problem
            }
        }
        return nil
    }

    /// The attachments of `ids`, by document, in one query (the reconcile reads them a batch at a time).
    static func attachments(of ids: [DocumentID], _ db: Database) throws -> [DocumentID: [AttachmentRecord]] {
        Dictionary(grouping: try AttachmentRecord.filter(ids.contains(AttachmentRecord.Columns.documentId))
            .order(AttachmentRecord.Columns.documentId, AttachmentRecord.Columns.position).fetchAll(db), by: \.documentId)
    }

    static func fileProblem(_ path: String, size: Int64, what: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return "\(what): file is missing (\(path))" }
        guard Int64(info.st_size) == size else {
            return "\(what): file size differs from the one recorded (recorded \(size), found \(Int64(info.st_size)))"
        }
        return nil
    }

    /// The hash of every attachment file (and `.p7s`) against its row: the reasons of those
    /// that differ. Reads every byte: outside the writer lock.
    func attachmentHashProblem(_ attachments: [AttachmentRecord]) -> String? {
        for attachment in attachments {
            let path = layout.attachmentPath(attachment.documentId, position: attachment.position, version: attachment.version)
            if let actual = try? POSIXFile.sha256(ofFile: path).sha256, actual != attachment.sha256 {
                return "attachment \(attachment.position) (\(attachment.fileName)): content hash differs (recorded \(attachment.sha256), found \(actual))"
            }
            if let name = attachment.signatureFile, let recorded = attachment.signatureSha256,
               let actual = try? POSIXFile.sha256(ofFile: layout.objectsDirectory + "/" + name).sha256, actual != recorded {
                return "the signature of attachment \(attachment.position) (\(attachment.fileName)): hash differs (recorded \(recorded), found \(actual))"
            }
        }
        return nil
    }
}
