import Foundation
import GRDB

/// A status a clerk sends about an incoming document (table `outgoing_status`, migration v7).
public struct OutgoingStatusRecord: Sendable, Codable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "outgoing_status"

    public var seq: Int64?
    /// The incoming document it answers (`relay_inbound.hub_id`).
    public var hubID: Int64
    public var statusCode: String
    public var description: String?
    public var staff: String?
    /// The status package, under `store/inbox/`, written and fsynced before this row.
    public var packageFile: String
    /// The hub's key for it (`status:From|DocumentId|Code|Timestamp`).
    public var packageKey: String
    public var createdAt: Date
    public var sentAt: Date?
    /// The hub's receipt (CMS, DER), verified.
    public var receipt: Data?
    public var lastError: String?
    public var refused: Bool

    enum CodingKeys: String, CodingKey {
        case seq, hubID = "hub_id", statusCode = "status_code", description, staff, packageFile = "package_file"
        case packageKey = "package_key", createdAt = "created_at", sentAt = "sent_at", receipt, lastError = "last_error", refused
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { seq = inserted.rowID }
}

extension DocumentStore {
    public func addOutgoingStatus(_ record: OutgoingStatusRecord) throws -> OutgoingStatusRecord {
        var saved = record
        try database.write { db in try saved.insert(db) }
        return saved
    }

    public func saveOutgoingStatus(_ record: OutgoingStatusRecord) throws {
        try database.write { db in try record.update(db) }
    }

    /// Statuses not yet accepted by the hub, oldest first.
    public func unsentOutgoingStatuses() throws -> [OutgoingStatusRecord] {
        try database.read { db in try OutgoingStatusRecord.filter(sql: "sent_at IS NULL AND NOT refused").order(sql: "seq").fetchAll(db) }
    }

    public func outgoingStatuses(hubID: Int64) throws -> [OutgoingStatusRecord] {
        try database.read { db in try OutgoingStatusRecord.filter(sql: "hub_id = ?", arguments: [hubID]).order(sql: "seq").fetchAll(db) }
    }
}
