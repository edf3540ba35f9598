import DocumentModel
import Foundation
import GRDB

/// How the audit chain stands (`store check`, `audit verify`).
package struct AuditChainStatus: Sendable, Codable, Equatable {
    /// The first line that is wrong: its number, its document, and what is wrong with it.
    package struct Break: Sendable, Codable, Equatable {
        package var entry: Int64
        package var documentId: String
        package var vi: String
        package var en: String

        enum CodingKeys: String, CodingKey { case entry, documentId = "document_id", vi, en }
    }

    package var entriesChecked: Int
    /// The last line of the sound part of the chain (all of it when nothing is broken).
    package var head: AuditAnchor?
    package var broken: Break?

    enum CodingKeys: String, CodingKey { case entriesChecked = "entries_checked", head, broken }
}

/// The audit chain's rows (`AuditChain` says what is hashed): appended in the transaction of the
/// change they record, walked by the checks.
extension DocumentStore {
    /// Appends one audit line, chained to the newest, in the caller's write transaction: the one
    /// writer of `transition` (the state change it records commits with it or not at all).
    ///
    /// The head is read by the primary key's last entry (`seq` is the rowid: one B-tree descent,
    /// its pages already cached by the previous append) rather than kept in memory: a rolled-back
    /// transaction then cannot leave a stale head behind, and nothing else needs to agree with it.
    static func appendAudit(_ documentId: DocumentID, from: String?, to: String, at now: Date, cause: String, in db: Database) throws {
        let head = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM \"transition\" ORDER BY seq DESC LIMIT 1"))
        let previous: String = head?["hash"] ?? AuditChain.genesis
        // The time as GRDB stores it, so the hash covers the very text a check reads back.
        let at = String.fromDatabaseValue(now.databaseValue) ?? ""
        let entry = AuditChain.Entry(seq: (head?["seq"] as Int64? ?? 0) + 1, documentId: documentId.description, fromState: from,
                                     toState: to, at: at, cause: cause)
        try db.cachedStatement(sql: """
            INSERT INTO "transition" (seq, document_id, from_state, to_state, at, cause, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [entry.seq, entry.documentId, from, to, at, cause, previous, AuditChain.hash(entry, previous: previous)])
    }

    /// Migration v14: the lines written before the chain existed are chained in their order.
    static func chainExistingAudit(_ db: Database) throws {
        var previous = AuditChain.genesis
        let rows = try Row.fetchCursor(db, sql: "SELECT seq, document_id, from_state, to_state, at, cause FROM \"transition\" ORDER BY seq")
        let update = try db.makeStatement(sql: "UPDATE \"transition\" SET previous_hash = ?, hash = ? WHERE seq = ?")
        while let row = try rows.next() {
            let entry = Self.auditEntry(row)
            let hash = AuditChain.hash(entry, previous: previous)
            try update.execute(arguments: [previous, hash, entry.seq])
            previous = hash
        }
    }

    static func auditEntry(_ row: Row) -> AuditChain.Entry {
        AuditChain.Entry(seq: row["seq"], documentId: row["document_id"], fromState: row["from_state"], toState: row["to_state"],
                         at: row["at"], cause: row["cause"])
    }

    /// The newest line as an anchor (sent with every package), nil while the trail is empty.
    package func auditHead() throws -> AuditAnchor? {
        try database.read { db in try Self.auditHead(db) }
    }

    static func auditHead(_ db: Database) throws -> AuditAnchor? {
        try Row.fetchOne(db, sql: "SELECT seq, hash FROM \"transition\" ORDER BY seq DESC LIMIT 1").flatMap { row in
            (row["hash"] as String?).flatMap { AuditAnchor(entry: row["seq"], sha256: $0) }
        }
    }

    /// The stored hash of line `entry`, nil when there is no such line.
    package func auditHash(entry: Int64) throws -> String? {
        try database.read { db in try String.fetchOne(db, sql: "SELECT hash FROM \"transition\" WHERE seq = ?", arguments: [entry]) }
    }

    /// Walks the whole chain and stops at the first line that is wrong. One read transaction
    /// and a cursor: constant memory, and intake goes on meanwhile (WAL).
    package func verifyAuditChain() throws -> AuditChainStatus {
        try database.read { db in try Self.verifyAuditChain(db) }
    }

    static func verifyAuditChain(_ db: Database) throws -> AuditChainStatus {
        var walk = AuditChain.Walk()
        let rows = try Row.fetchCursor(db, sql: """
            SELECT seq, document_id, from_state, to_state, at, cause, previous_hash, hash FROM "transition" ORDER BY seq
            """)
        while let row = try rows.next() {
            let entry = auditEntry(row)
            if let problem = walk.next(entry, previousHash: row["previous_hash"], hash: row["hash"]) {
                return AuditChainStatus(entriesChecked: walk.count, head: walk.head,
                                        broken: .init(entry: entry.seq, documentId: entry.documentId, vi: problem.vietnamese, en: problem.english))
            }
        }
        return AuditChainStatus(entriesChecked: walk.count, head: walk.head, broken: nil)
    }
}
