import Foundation
import GRDB

/// A document in the relay's hands (table `relay_outbound`, migration v2).
public struct OutboundRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "relay_outbound"

    public var documentId: DocumentID
    /// The edXML DocumentId: the hub's idempotency key (docs/protocol.md).
    public var packageKey: String
    public var packageSHA256: String
    public var packageSize: Int64
    public var lane: RelayLane
    public var queuedAt: Date
    /// The tus upload on the hub (`/v1/uploads/<uuid>`), kept so a restart continues it.
    public var uploadPath: String?
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastError: String?
    /// The hub's signed receipt (CMS, DER), verified before it was stored.
    public var receipt: Data?
    public var deliveredAt: Date?

    enum CodingKeys: String, CodingKey {
        case documentId = "document_id", packageKey = "package_key", packageSHA256 = "package_sha256", packageSize = "package_size"
        case lane, queuedAt = "queued_at", uploadPath = "upload_path", attempts, nextAttemptAt = "next_attempt_at"
        case lastError = "last_error", receipt, deliveredAt = "delivered_at"
    }

}

/// An item the hub brought down (table `relay_inbound`).
public struct InboundRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "relay_inbound"

    public var hubID: Int64
    /// `document` or `status`.
    public var kind: String
    public var packageKey: String
    public var sender: String
    public var sha256: String
    public var size: Int64
    public var storedAt: Date
    public var ackedAt: Date?
    /// When the 01 "đã đến" for it was accepted by the hub (documents only).
    public var statusSentAt: Date?
    public var statusReceipt: Data?

    enum CodingKeys: String, CodingKey {
        case hubID = "hub_id", kind, packageKey = "package_key", sender, sha256, size, storedAt = "stored_at"
        case ackedAt = "acked_at", statusSentAt = "status_sent_at", statusReceipt = "status_receipt"
    }
}

extension DocumentStore {
    // MARK: Outbound

    /// `signed → queued` together with the relay's row, in one transaction: a document is
    /// queued only with a package on disk (already fsynced by the caller) to send.
    public func queueForRelay(_ record: OutboundRecord) throws {
        try database.write { db in
            guard var document = try DocumentRecord.fetchOne(db, key: record.documentId) else {
                throw DatabaseError(resultCode: .SQLITE_NOTFOUND, message: "no document \(record.documentId)")
            }
            try record.save(db)
            try Self.move(&document, to: .queued, cause: "edXML package built (\(record.packageSize) bytes); waiting for the upstream link",
                          reason: nil, at: record.queuedAt, in: db)
        }
        changes.notify()
    }

    /// Documents in `queued` and `sending` with their relay rows, for the scheduler and the status.
    public func relayQueue() throws -> [(DocumentRecord, OutboundRecord)] {
        try database.read { db in
            let documents = try DocumentRecord.filter([DocumentState.queued, .sending].contains(DocumentRecord.Columns.state)).fetchAll(db)
            return try documents.compactMap { document in
                try OutboundRecord.fetchOne(db, key: document.id).map { (document, $0) }
            }
        }
    }

    public func outbound(_ id: DocumentID) throws -> OutboundRecord? {
        try database.read { db in try OutboundRecord.fetchOne(db, key: id) }
    }

    /// Saves the relay's progress (upload path, attempts) without a state change.
    public func updateOutbound(_ record: OutboundRecord) throws {
        try database.write { db in try record.update(db) }
    }

    /// A state change of a relayed document and its relay row, committed together.
    public func relayTransition(_ record: OutboundRecord, to next: DocumentState, cause: String, reason: String? = nil) throws {
        try database.write { db in
            guard var document = try DocumentRecord.fetchOne(db, key: record.documentId) else {
                throw DatabaseError(resultCode: .SQLITE_NOTFOUND, message: "no document \(record.documentId)")
            }
            try record.update(db)
            if document.state != next {
                try Self.move(&document, to: next, cause: cause, reason: reason, at: Date(), in: db)
            }
        }
    }

    // MARK: Inbound

    public func inbound(hubID: Int64) throws -> InboundRecord? {
        try database.read { db in try InboundRecord.fetchOne(db, key: hubID) }
    }

    public func saveInbound(_ record: InboundRecord) throws {
        try database.write { db in try record.save(db) }
    }

    /// Incoming documents stored and acknowledged whose 01 status has not been accepted yet.
    public func inboundAwaitingStatus() throws -> [InboundRecord] {
        try database.read { db in
            try InboundRecord.filter(sql: "kind = 'document' AND acked_at IS NOT NULL AND status_sent_at IS NULL")
                .order(sql: "hub_id").fetchAll(db)
        }
    }

    public func inboundList(limit: Int = 100) throws -> [InboundRecord] {
        try database.read { db in try InboundRecord.order(sql: "hub_id DESC").limit(limit).fetchAll(db) }
    }
}

extension DocumentStore {
    /// Queued documents may go at once (the link came back).
    func clearRelayRetryTimes() throws {
        try database.write { db in
            try db.execute(sql: """
                UPDATE relay_outbound SET next_attempt_at = NULL
                WHERE document_id IN (SELECT id FROM document WHERE state = 'queued')
                """)
        }
    }

    func inboundCount() throws -> Int {
        try database.read { db in try InboundRecord.fetchCount(db) }
    }
}
