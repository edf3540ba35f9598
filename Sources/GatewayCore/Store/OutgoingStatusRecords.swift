import Foundation
import GRDB

/// A status a clerk sends about an incoming document (table `outgoing_status`, migration v7).
package struct OutgoingStatusRecord: Sendable, Codable, Equatable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "outgoing_status"

    package var seq: Int64?
    /// The incoming document it answers (`relay_inbound.hub_id`).
    package var hubID: Int64
    package var statusCode: String
    package var description: String?
    package var staff: String?
    /// The status package, under `store/inbox/`, written and fsynced before this row.
    package var packageFile: String
    /// The hub's key for it (`status:From|DocumentId|Code|Timestamp`).
    package var packageKey: String
    package var createdAt: Date
    package var sentAt: Date?
    /// The hub's receipt (CMS, DER), verified.
    package var receipt: Data?
    package var lastError: String?
    package var refused: Bool

    enum CodingKeys: String, CodingKey {
        case seq, hubID = "hub_id", statusCode = "status_code", description, staff, packageFile = "package_file"
        case packageKey = "package_key", createdAt = "created_at", sentAt = "sent_at", receipt, lastError = "last_error", refused
    }

    package mutating func didInsert(_ inserted: InsertionSuccess) { seq = inserted.rowID }
}

extension DocumentStore {
    package func addOutgoingStatus(_ record: OutgoingStatusRecord) throws -> OutgoingStatusRecord {
        var saved = record
        try database.write { db in try saved.insert(db) }
        return saved
    }

    package func saveOutgoingStatus(_ record: OutgoingStatusRecord) throws {
        try database.write { db in try record.update(db) }
    }

    /// Statuses not yet accepted by the hub, oldest first.
    package func unsentOutgoingStatuses() throws -> [OutgoingStatusRecord] {
        try database.read { db in try OutgoingStatusRecord.filter(sql: "sent_at IS NULL AND NOT refused").order(sql: "seq").fetchAll(db) }
    }

    package func outgoingStatuses(hubID: Int64) throws -> [OutgoingStatusRecord] {
        try database.read { db in try OutgoingStatusRecord.filter(sql: "hub_id = ?", arguments: [hubID]).order(sql: "seq").fetchAll(db) }
    }
}
