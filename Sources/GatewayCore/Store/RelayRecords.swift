import DocumentModel
import Foundation
import GRDB

/// A document in the relay's hands (table `relay_outbound`, migration v2).
package struct OutboundRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "relay_outbound"

    package var documentId: DocumentID
    /// The edXML DocumentId: the hub's idempotency key (docs/protocol.md).
    package var packageKey: String
    package var packageSHA256: String
    package var packageSize: Int64
    package var lane: RelayLane
    package var queuedAt: Date
    /// The tus upload on the hub (`/v1/uploads/<uuid>`), kept so a restart continues it.
    package var uploadPath: String?
    package var attempts: Int
    package var nextAttemptAt: Date?
    package var lastError: String?
    /// The hub's signed receipt (CMS, DER), verified before it was stored.
    package var receipt: Data?
    package var deliveredAt: Date?

    enum CodingKeys: String, CodingKey {
        case documentId = "document_id", packageKey = "package_key", packageSHA256 = "package_sha256", packageSize = "package_size"
        case lane, queuedAt = "queued_at", uploadPath = "upload_path", attempts, nextAttemptAt = "next_attempt_at"
        case lastError = "last_error", receipt, deliveredAt = "delivered_at"
    }

}

/// An item the hub brought down (table `relay_inbound`).
package struct InboundRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "relay_inbound"

    package var hubID: Int64
    /// `document` or `status`.
    package var kind: String
    package var packageKey: String
    package var sender: String
    package var sha256: String
    package var size: Int64
    package var storedAt: Date
    package var ackedAt: Date?
    /// When the 01 "đã đến" for it was accepted by the hub (documents only).
    package var statusSentAt: Date?
    package var statusReceipt: Data?
    /// The document's folder in the clerks' inbox folder (`[inbox] folder`), once placed there.
    package var folder: String?
    /// Its signatures as checked on arrival (documents only; nil until checked).
    package var verdict: IncomingVerdict?

    enum CodingKeys: String, CodingKey {
        case hubID = "hub_id", kind, packageKey = "package_key", sender, sha256, size, storedAt = "stored_at"
        case ackedAt = "acked_at", statusSentAt = "status_sent_at", statusReceipt = "status_receipt", folder, verdict
    }
}

/// A recipient's status about one of our documents (table `recipient_status`, migration v5).
package struct RecipientStatusRecord: Sendable, Codable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "recipient_status"

    package var seq: Int64?
    package var documentId: DocumentID
    /// The hub's inbox id of the status package (kept in `store/inbox/`).
    package var hubID: Int64
    package var fromCode: String
    package var fromName: String?
    /// QCVN 102 status code: 01 arrived, 02 refused, 03 registered, 04 assigned, 05 in progress, 06 done …
    package var statusCode: String
    package var description: String?
    /// Who at the recipient (`StaffInfo`), as sent.
    package var staff: String?
    /// The status's own `Timestamp`, as sent (`yyyy/MM/dd HH:mm:ss`, the recipient's time).
    package var statusTime: String
    package var receivedAt: Date

    enum CodingKeys: String, CodingKey {
        case seq, documentId = "document_id", hubID = "hub_id", fromCode = "from_code", fromName = "from_name"
        case statusCode = "status_code", description, staff, statusTime = "status_time", receivedAt = "received_at"
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { seq = inserted.rowID }
}

extension DocumentStore {
    // MARK: Outbound

    /// `signed → queued` together with the relay's row, in one transaction: a document is
    /// queued only with a package on disk (already fsynced by the caller) to send.
    package func queueForRelay(_ record: OutboundRecord) throws {
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

    /// What the upload workers choose from, read without the whole queue: the first `limit`
    /// queued documents in lanes from `lowestLane` up that are due now (most urgent lane first,
    /// then oldest), and — only when fewer than `limit` are due — when the earliest of the others
    /// waiting out a backoff becomes due.
    ///
    /// Each worker asks before every upload, so this must not grow with the queue: reading every
    /// queued row per pick made a 1,000-document backlog drain at a tenth of the link's rate
    /// (docs/PERFORMANCE.md, "Relay"). The walk follows index `relay_outbound_waiting` (v3) and
    /// stops after `limit` rows; `limit` is one more than the documents other workers hold, so a
    /// full answer always has one free to take.
    package func relayCandidates(from lowestLane: RelayLane, now: Date, limit: Int) throws -> (due: [LaneScheduler.Candidate], nextRetry: Date?) {
        try database.read { db in
            // INDEXED BY and CROSS JOIN fix the plan: relay rows in the index's order, each checked
            // against its document's state (sending and rejected ones are skipped).
            let rows = try Row.fetchAll(db, sql: """
                SELECT o.document_id, o.lane, o.queued_at, o.next_attempt_at
                FROM relay_outbound o INDEXED BY relay_outbound_waiting CROSS JOIN document d ON d.id = o.document_id
                WHERE o.delivered_at IS NULL AND o.lane >= ? AND d.state = 'queued'
                  AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?)
                ORDER BY o.lane DESC, o.queued_at, o.document_id
                LIMIT ?
                """, arguments: [lowestLane.rawValue, now, limit])
            let due = try rows.map { row throws -> LaneScheduler.Candidate in
                guard let id = DocumentID(row["document_id"] as String), let lane = RelayLane(rawValue: row["lane"]) else {
                    throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "relay_outbound row unreadable: \(row)")
                }
                return LaneScheduler.Candidate(id: id, lane: lane, queuedAt: row["queued_at"], notBefore: row["next_attempt_at"])
            }
            guard due.count < limit else { return (due, nil) }
            let nextRetry = try Date.fetchOne(db, sql: """
                SELECT MIN(o.next_attempt_at)
                FROM relay_outbound o INDEXED BY relay_outbound_waiting CROSS JOIN document d ON d.id = o.document_id
                WHERE o.delivered_at IS NULL AND o.lane >= ? AND d.state = 'queued' AND o.next_attempt_at > ?
                """, arguments: [lowestLane.rawValue, now])
            return (due, nextRetry)
        }
    }

    /// Per queued or sending document: its lane, whether it is being sent and since when it has
    /// waited — the status's figures, without decoding whole records.
    package func relayQueueSummary() throws -> [(lane: RelayLane, sending: Bool, queuedAt: Date)] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT o.lane, d.state, o.queued_at
                FROM document d JOIN relay_outbound o ON o.document_id = d.id
                WHERE d.state IN ('queued', 'sending')
                """).compactMap { row in
                guard let lane = RelayLane(rawValue: row["lane"]) else { return nil }
                return (lane, (row["state"] as String) == DocumentState.sending.rawValue, row["queued_at"])
            }
        }
    }

    package func outbound(_ id: DocumentID) throws -> OutboundRecord? {
        try database.read { db in try OutboundRecord.fetchOne(db, key: id) }
    }

    /// Saves the relay's progress (upload path, attempts) without a state change.
    package func updateOutbound(_ record: OutboundRecord) throws {
        try database.write { db in try record.update(db) }
    }

    /// A state change of a relayed document and its relay row, committed together.
    ///
    /// Two of these per delivery, so the relay row is written column by column with a cached
    /// statement, and the state change through `move`, which does the same: decoding and
    /// re-encoding the whole document (its metadata JSON) and relay row through Codable was the
    /// largest part of the relay's CPU per document (docs/PERFORMANCE.md, "Relay").
    package func relayTransition(_ record: OutboundRecord, to next: DocumentState, cause: String, reason: String? = nil) throws {
        try database.write { db in
            let id = record.documentId
            guard let stored = try String.fetchOne(db.cachedStatement(sql: "SELECT state FROM document WHERE id = ?"), arguments: [id]) else {
                throw DatabaseError(resultCode: .SQLITE_NOTFOUND, message: "no document \(id)")
            }
            guard let current = DocumentState(rawValue: stored) else {
                throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "document \(id) has an unknown state \(stored)")
            }
            try db.cachedStatement(sql: """
                UPDATE relay_outbound SET upload_path = ?, attempts = ?, next_attempt_at = ?, last_error = ?, receipt = ?, delivered_at = ?
                WHERE document_id = ?
                """).execute(arguments: [record.uploadPath, record.attempts, record.nextAttemptAt, record.lastError, record.receipt,
                                         record.deliveredAt, id])
            guard current != next else { return }
            try Self.move(id, from: current, to: next, cause: cause, reason: reason, at: Date(), in: db)
        }
    }

    // MARK: Inbound

    package func inbound(hubID: Int64) throws -> InboundRecord? {
        try database.read { db in try InboundRecord.fetchOne(db, key: hubID) }
    }

    package func saveInbound(_ record: InboundRecord) throws {
        try database.write { db in try record.save(db) }
    }

    /// Stores an incoming item's row and, for a status about one of our documents, attaches it,
    /// in one transaction: after a crash the item is either unknown (fetched again) or attached.
    package func saveInbound(_ record: InboundRecord, attaching status: RecipientStatusRecord?) throws {
        try database.write { db in
            try record.save(db)
            if var status { try status.insert(db, onConflict: .ignore) }
        }
    }

    /// Our document whose edXML package carried `key` (its DocumentId), if any.
    package func documentID(forPackageKey key: String) throws -> DocumentID? {
        try database.read { db in
            try DocumentID.fetchOne(db, sql: "SELECT document_id FROM relay_outbound WHERE package_key = ?", arguments: [key])
        }
    }

    /// What the recipients said about a document, oldest first.
    package func recipientStatuses(_ id: DocumentID) throws -> [RecipientStatusRecord] {
        try database.read { db in
            try RecipientStatusRecord.filter(sql: "document_id = ?", arguments: [id]).order(sql: "seq").fetchAll(db)
        }
    }

    /// Incoming documents stored and acknowledged whose 01 status has not been accepted yet.
    package func inboundAwaitingStatus() throws -> [InboundRecord] {
        try database.read { db in
            try InboundRecord.filter(sql: "kind = 'document' AND acked_at IS NOT NULL AND status_sent_at IS NULL")
                .order(sql: "hub_id").fetchAll(db)
        }
    }

    /// Incoming documents stored and acknowledged that are not yet in the clerks' inbox folder.
    package func inboundAwaitingFolder() throws -> [InboundRecord] {
        try database.read { db in
            try InboundRecord.filter(sql: "kind = 'document' AND acked_at IS NOT NULL AND folder IS NULL").order(sql: "hub_id").fetchAll(db)
        }
    }

    /// Documents whose verdict is "could not be checked", last checked before `before`.
    package func inboundToRecheck(before: Date) throws -> [InboundRecord] {
        try database.read { db in
            try InboundRecord.filter(sql: "json_extract(verdict, '$.outcome') = 'unknown'").order(sql: "hub_id").fetchAll(db)
                .filter { ($0.verdict?.checkedAt ?? .distantPast) < before }
        }
    }

    package func inboundList(limit: Int = 100) throws -> [InboundRecord] {
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
