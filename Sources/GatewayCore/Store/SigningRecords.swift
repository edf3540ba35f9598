import DurableFiles
import Foundation
import GRDB
import SigningPolicy

/// One signature made on the box (table `signature`): who signed, with which certificate, in
/// which role, and the version of the content it produced.
package struct SignatureRecord: Sendable, Codable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "signature"

    package var seq: Int64?
    package var documentId: DocumentID
    package var role: SigningRole
    package var version: Int
    package var sha256: String
    /// The signer's name as the certificate gives it (CN).
    package var signer: String
    /// The subject identifier the decision rested on: `CCCD:…`, `MST:…`.
    package var identity: String
    package var certificateSha256: String
    /// `good`, `revoked`, `unknown: …`, `not-checked`: as found, never upgraded.
    package var revocation: String
    package var session: String
    /// Where the token was: reader and key.
    package var token: String
    package var signedAt: Date

    package init(documentId: DocumentID, role: SigningRole, version: Int = 0, sha256: String = "", signer: String, identity: String,
                 certificateSha256: String, revocation: String, session: String, token: String, signedAt: Date) {
        (self.documentId, self.role, self.version, self.sha256, self.signer, self.identity) = (documentId, role, version, sha256, signer, identity)
        (self.certificateSha256, self.revocation, self.session, self.token, self.signedAt) = (certificateSha256, revocation, session, token, signedAt)
    }

    package enum CodingKeys: String, CodingKey, ColumnExpression {
        case seq, documentId = "document_id", role, version, sha256, signer, identity
        case certificateSha256 = "certificate_sha256", revocation, session, token, signedAt = "signed_at"
    }
    package typealias Columns = CodingKeys

    package mutating func didInsert(_ inserted: InsertionSuccess) { seq = inserted.rowID }
}

extension SigningRole: DatabaseValueConvertible {}

/// A signed version ready to become the document's current one.
package struct SignedVersion: Sendable {
    package var document: DocumentID
    /// The version and state the signature was made from: if the row moved on meanwhile (the
    /// clerk withdrew it, another session signed it), the new version is not committed.
    package var fromVersion: Int
    package var fromState: DocumentState
    /// The signed content in `store/tmp/`, written and fsynced (`DocumentStore.signingTemporaryPath`).
    package var temporaryPath: String
    package var sha256: String
    package var size: Int64
    package var signature: SignatureRecord
    package var nextState: DocumentState
    package var cause: String

    package init(document: DocumentID, fromVersion: Int, fromState: DocumentState, temporaryPath: String, sha256: String, size: Int64,
                 signature: SignatureRecord, nextState: DocumentState, cause: String) {
        (self.document, self.fromVersion, self.fromState, self.temporaryPath) = (document, fromVersion, fromState, temporaryPath)
        (self.sha256, self.size, self.signature, self.nextState, self.cause) = (sha256, size, signature, nextState, cause)
    }
}

/// Why a signing step was not committed: nothing changed in the store.
package enum SigningStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case noDocument(DocumentID)
    /// The document moved on while it was being signed (withdrawn, returned, signed elsewhere).
    case changed(DocumentID, now: DocumentState)
    case notBeforeSigning(DocumentID, state: DocumentState)
    case refused(SigningRefusal)
    /// A replacement once a signature was made: the signature would no longer cover the file.
    case alreadySigned(DocumentID)

    package var description: String {
        switch self {
        case .noDocument(let id): "Không có văn bản / no document \(id)"
        case .changed(let id, let state):
            "Văn bản \(id) đã thay đổi trong lúc ký (nay: \(state.rawValue)) — không ghi phiên bản đã ký / document \(id) changed while it was signed (now \(state.rawValue)): the signed version is not kept"
        case .notBeforeSigning(let id, let state):
            "Văn bản \(id) đang ở trạng thái \(state.rawValue): chỉ trả lại hoặc rút được văn bản chưa ký xong / document \(id) is \(state.rawValue): only a document not yet fully signed can be returned or withdrawn"
        case .refused(let refusal): refusal.message
        case .alreadySigned(let id):
            "Văn bản \(id) đã có chữ ký nên không thay tệp được: hãy rút lại (withdraw) và gửi tệp mới / document \(id) already carries a signature, so its file cannot be replaced: withdraw it and submit the new file"
        }
    }
}

/// A line of the register of outgoing documents, for `gatewayd register`.
package struct RegisterLine: Sendable, Codable, Equatable {
    package var number: RegisterNumber
    package var document: DocumentID
    package var subject: String?
    package var state: DocumentState
}

extension DocumentStore {
    /// Where a session writes the next version of a document before it is committed: in
    /// `store/tmp/`, which startup recovery empties, so a crash mid-signature leaves no trace.
    package func signingTemporaryPath(_ id: DocumentID, version: Int) -> String {
        layout.temporaryDirectory + "/" + StoreLayout.objectName(id, version: version) + ".part"
    }

    package func signatures(_ id: DocumentID) throws -> [SignatureRecord] {
        try database.read { db in
            try SignatureRecord.filter(SignatureRecord.Columns.documentId == id).order(SignatureRecord.Columns.seq).fetchAll(db)
        }
    }

    /// Documents waiting in `state`, oldest first (the order a session signs them in).
    package func waiting(in state: DocumentState, limit: Int = 1000) throws -> [DocumentRecord] {
        try database.read { db in
            try DocumentRecord.filter(DocumentRecord.Columns.state == state.rawValue)
                .order(DocumentRecord.Columns.id).limit(limit).fetchAll(db)
        }
    }

    /// Documents sealed on the box and still `signed`: their envelope was not made (the session
    /// ended between the seal and the queue). The next seal session signs their envelope with
    /// its token; the box's own key is not the organization's.
    package func sealedNotQueued(limit: Int = 1000) throws -> [DocumentRecord] {
        try database.read { db in
            try DocumentRecord.fetchAll(db, sql: """
                SELECT document.* FROM document JOIN signature ON signature.document_id = document.id AND signature.role = 'organization'
                WHERE document.state = 'signed' ORDER BY document.id LIMIT ?
                """, arguments: [limit])
        }
    }

    /// Makes a signed version the document's current one, in one transaction with its signature
    /// row, the state change and the audit line: the content file is renamed into `objects/`
    /// under the same writer lock (as intake does), so the reconcile never sees it half-done, and
    /// a crash leaves the document on its old version (the new file is then an orphan set aside)
    /// or on the new one. The previous version's file is kept.
    @discardableResult
    package func commitSignature(_ signed: SignedVersion, at now: Date) throws -> DocumentRecord {
        try committingFile(signed.temporaryPath) { db in
            guard var record = try DocumentRecord.fetchOne(db, key: signed.document) else { throw SigningStoreError.noDocument(signed.document) }
            guard record.version == signed.fromVersion, record.state == signed.fromState else {
                throw SigningStoreError.changed(signed.document, now: record.state)
            }
            let version = record.version + 1
            try POSIXFile.rename(signed.temporaryPath, layout.objectPath(record.id, version: version))
            try POSIXFile.fsyncDirectory(layout.objectsDirectory)
            var signature = signed.signature
            signature.version = version
            signature.sha256 = signed.sha256
            try signature.insert(db)
            try db.execute(sql: "UPDATE document SET version = ?, size = ?, sha256 = ? WHERE id = ?",
                           arguments: [version, signed.size, signed.sha256, record.id])
            (record.version, record.size, record.sha256) = (version, signed.size, signed.sha256)
            try Self.move(&record, to: signed.nextState, cause: signed.cause, reason: nil, at: now, in: db)
            return record
        }
    }

    /// The document's number from the register, given once: a document that has one keeps it;
    /// one whose metadata carries a number (given outside the box) keeps that and the register
    /// moves past it; otherwise its series' next. The register and the document's row change in
    /// one transaction, so no number is given twice, even across a crash.
    package func assignNumber(_ id: DocumentID, numbering: OutgoingRegister.Numbering, defaultNotation: String?,
                              at now: Date) throws -> RegisterNumber {
        try database.write { db in
            guard let record = try DocumentRecord.fetchOne(db, key: id) else { throw SigningStoreError.noDocument(id) }
            if let number = record.registerNumber { return number }
            var last: [OutgoingRegister.Series: OutgoingRegister.Entry] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT year, series, last_number, last_date FROM outgoing_register") {
                last[.init(year: row["year"], notation: row["series"])] = .init(number: row["last_number"], date: row["last_date"])
            }
            let register = OutgoingRegister(numbering: numbering, last: last)
            let notation = record.metadata.notation ?? defaultNotation ?? ""
            let given = record.metadata.number.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map {
                RegisterNumber(year: OutgoingRegister.year(of: now), number: $0, notation: notation, date: now)
            }
            let (number, next): (RegisterNumber, OutgoingRegister)
            do throws(SigningRefusal) { (number, next) = try register.next(notation: notation, at: now, existing: given) } catch {
                throw SigningStoreError.refused(error)
            }
            for (series, entry) in next.last where last[series] != entry {
                try db.execute(sql: """
                    INSERT INTO outgoing_register (year, series, last_number, last_date) VALUES (?, ?, ?, ?)
                    ON CONFLICT (year, series) DO UPDATE SET last_number = excluded.last_number, last_date = excluded.last_date
                    """, arguments: [series.year, series.notation, entry.number, entry.date])
            }
            var updated = record
            updated.registerNumber = number
            try updated.update(db, columns: [DocumentRecord.Columns.registerNumber])
            try Self.appendAudit(id, from: record.state.rawValue, to: record.state.rawValue, at: now,
                                 cause: "số \(number.reference), \(number.vietnameseDate) (sổ văn bản đi / outgoing register)", in: db)
            return number
        }
    }

    /// The register of one year, in number order.
    package func register(year: Int) throws -> [RegisterLine] {
        try database.read { db in
            try DocumentRecord.filter(sql: "register_number IS NOT NULL").fetchAll(db).compactMap { record in
                guard let number = record.registerNumber, number.year == year else { return nil }
                return RegisterLine(number: number, document: record.id, subject: record.metadata.subject, state: record.state)
            }
            .sorted { ($0.number.number, $0.number.notation) < ($1.number.number, $1.number.notation) }
        }
    }

    /// The clerk replaces the file of a document nobody has signed yet (waiting for the leader,
    /// or returned with a note): the new content becomes the next version (the earlier ones are
    /// kept), a returned document goes back to the first signature it needs, and the history says
    /// who replaced it. Refused once any signature was made: it would not cover the new file.
    @discardableResult
    package func replaceContent(_ id: DocumentID, with staged: StagedDocument, cause: String, at now: Date) async throws -> DocumentRecord {
        let content: FinishedContent
        do { content = try await ioPool.runIfActive { try staged.finish() } } catch {
            staged.discard()
            throw error
        }
        let replaced: DocumentRecord
        do {
            replaced = try await database.write { db in
                guard var record = try DocumentRecord.fetchOne(db, key: id) else { throw SigningStoreError.noDocument(id) }
                guard record.state.isBeforeSigning else { throw SigningStoreError.notBeforeSigning(id, state: record.state) }
                let signatures = try Int.fetchOne(db, sql: "SELECT count(*) FROM signature WHERE document_id = ?", arguments: [id]) ?? 0
                guard signatures == 0 else { throw SigningStoreError.alreadySigned(id) }
                let version = record.version + 1
                try POSIXFile.rename(content.temporaryPath, layout.objectPath(id, version: version))
                try POSIXFile.fsyncDirectory(layout.objectsDirectory)
                try db.execute(sql: "UPDATE document SET version = ?, size = ?, sha256 = ? WHERE id = ?",
                               arguments: [version, content.size, content.sha256, id])
                (record.version, record.size, record.sha256) = (version, content.size, content.sha256)
                let line = "\(cause) (phiên bản / version \(version), SHA-256 \(content.sha256.prefix(16))…)"
                let reason = content.isPDF ? nil : Self.notAPDFReason
                if record.state == .returned {
                    try Self.move(&record, to: .afterIntake(record.metadata), cause: line, reason: reason, at: now, in: db)
                } else {
                    try Self.appendAudit(id, from: record.state.rawValue, to: record.state.rawValue, at: now, cause: line, in: db)
                    try db.execute(sql: "UPDATE document SET state_reason = ?, updated_at = ? WHERE id = ?", arguments: [reason, now, id])
                    record.stateReason = reason
                }
                return record
            }
        } catch {
            POSIXFile.unlinkIfPresent(content.temporaryPath)
            throw error
        }
        changes.notify()
        return replaced
    }

    /// Marks a document with a reason a person must act on, without moving it: its state reason
    /// and a history line (the signing stage: "this document could not be signed: …").
    package func mark(_ id: DocumentID, reason: String, cause: String, at now: Date) throws {
        try database.write { db in
            guard let state = try String.fetchOne(db, sql: "SELECT state FROM document WHERE id = ?", arguments: [id]) else {
                throw SigningStoreError.noDocument(id)
            }
            try Self.appendAudit(id, from: state, to: state, at: now, cause: cause, in: db)
            try db.execute(sql: "UPDATE document SET state_reason = ?, updated_at = ? WHERE id = ?", arguments: [reason, now, id])
        }
        changes.notify()
    }

    /// A person acts on a document before it is signed: the leader returns it to the clerk with
    /// a note (`returned`), the clerk withdraws it (`withdrawn`, never sent). Who and why go in
    /// the history.
    @discardableResult
    package func act(on id: DocumentID, to next: DocumentState, cause: String, at now: Date) throws -> DocumentRecord {
        let moved = try database.write { db in
            guard var record = try DocumentRecord.fetchOne(db, key: id) else { throw SigningStoreError.noDocument(id) }
            guard record.state.isBeforeSigning, record.state.canMove(to: next) else {
                throw SigningStoreError.notBeforeSigning(id, state: record.state)
            }
            try Self.move(&record, to: next, cause: cause, reason: next == .returned ? cause : nil, at: now, in: db)
            return record
        }
        changes.notify()
        return moved
    }
}
