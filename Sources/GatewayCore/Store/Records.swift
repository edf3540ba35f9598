import Foundation
import GRDB

/// Which door a document came through.
public enum IntakeSource: String, Sendable, Codable {
    case api
    case hotFolder = "hot_folder"
}

/// One document as the store keeps it. The same type is the local API's JSON (snake_case keys
/// are the column names), so the API cannot show a field the store does not have.
public struct DocumentRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "document"

    public var id: DocumentID
    public var fileName: String
    public var size: Int64
    public var sha256: String
    public var state: DocumentState
    public var source: IntakeSource
    /// Identity of the submission, so a retry or a re-scan finds the first copy instead of
    /// making a second: `api:<Idempotency-Key>` or `hot_folder:<inode>:<size>:<mtime-ns>:<name>`.
    public var intakeKey: String?
    public var metadata: DocumentMetadata
    public var priority: Int
    public var receivedAt: Date
    public var updatedAt: Date
    /// Why the document is in its state, for states that need a person (rejected, quarantined).
    public var stateReason: String?

    public enum CodingKeys: String, CodingKey, ColumnExpression {
        case id, fileName = "file_name", size, sha256, state, source, intakeKey = "intake_key", metadata, priority
        case receivedAt = "received_at", updatedAt = "updated_at", stateReason = "state_reason"
    }
    public typealias Columns = CodingKeys
}

/// One line of the audit trail: a state change with its time and cause.
public struct TransitionRecord: Sendable, Codable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "transition"

    public var seq: Int64?
    public var documentId: DocumentID
    public var fromState: DocumentState?
    public var toState: DocumentState
    public var at: Date
    public var cause: String

    public enum CodingKeys: String, CodingKey, ColumnExpression {
        case seq, documentId = "document_id", fromState = "from_state", toState = "to_state", at, cause
    }
    public typealias Columns = CodingKeys

    public mutating func didInsert(_ inserted: InsertionSuccess) { seq = inserted.rowID }
}

extension DocumentID: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { description.databaseValue }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> DocumentID? {
        String.fromDatabaseValue(dbValue).flatMap(DocumentID.init)
    }
}

extension DocumentState: DatabaseValueConvertible {}
extension IntakeSource: DatabaseValueConvertible {}
