import Foundation
import GRDB
import SigningPolicy

/// Which door a document came through.
package enum IntakeSource: String, Sendable, Codable {
    case api
    case hotFolder = "hot_folder"
}

/// One document as the store keeps it. The same type is the local API's JSON (snake_case keys
/// are the column names), so the API cannot show a field the store does not have.
package struct DocumentRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    package static let databaseTableName = "document"

    package var id: DocumentID
    package var fileName: String
    package var size: Int64
    package var sha256: String
    package var state: DocumentState
    package var source: IntakeSource
    /// Identity of the submission, so a retry or a re-scan finds the first copy instead of
    /// making a second: `api:<Idempotency-Key>` or `hot_folder:<inode>:<size>:<mtime-ns>:<name>`.
    package var intakeKey: String?
    package var metadata: DocumentMetadata
    package var priority: Int
    package var receivedAt: Date
    package var updatedAt: Date
    /// Why the document is in its state, for states that need a person (rejected, quarantined).
    package var stateReason: String?
    /// Which version of the content `size` and `sha256` describe: 0 as received, one more for
    /// each signature (`StoreLayout.objectPath(_:version:)`); earlier versions are kept.
    package var version: Int = 0
    /// The number the register gave at sealing (Decree 30/2020 Art. 15), with its date.
    package var registerNumber: RegisterNumber?

    package init(id: DocumentID, fileName: String, size: Int64, sha256: String, state: DocumentState, source: IntakeSource,
                 intakeKey: String?, metadata: DocumentMetadata, priority: Int, receivedAt: Date, updatedAt: Date,
                 stateReason: String?, version: Int = 0, registerNumber: RegisterNumber? = nil) {
        (self.id, self.fileName, self.size, self.sha256, self.state, self.source) = (id, fileName, size, sha256, state, source)
        (self.intakeKey, self.metadata, self.priority, self.receivedAt, self.updatedAt) = (intakeKey, metadata, priority, receivedAt, updatedAt)
        (self.stateReason, self.version, self.registerNumber) = (stateReason, version, registerNumber)
    }

    package enum CodingKeys: String, CodingKey, ColumnExpression {
        case id, fileName = "file_name", size, sha256, state, source, intakeKey = "intake_key", metadata, priority
        case receivedAt = "received_at", updatedAt = "updated_at", stateReason = "state_reason", version
        case registerNumber = "register_number"
    }
    package typealias Columns = CodingKeys
}

/// One line of the audit trail: a state change with its time and cause. Read only: lines are
/// written by `DocumentStore.appendAudit`, which chains them (`AuditChain`).
package struct TransitionRecord: Sendable, Codable, Equatable, FetchableRecord, TableRecord {
    package static let databaseTableName = "transition"

    package var seq: Int64?
    package var documentId: DocumentID
    package var fromState: DocumentState?
    package var toState: DocumentState
    package var at: Date
    package var cause: String

    package enum CodingKeys: String, CodingKey, ColumnExpression {
        case seq, documentId = "document_id", fromState = "from_state", toState = "to_state", at, cause
    }
    package typealias Columns = CodingKeys
}

extension DocumentID: DatabaseValueConvertible {
    package var databaseValue: DatabaseValue { description.databaseValue }
    package static func fromDatabaseValue(_ dbValue: DatabaseValue) -> DocumentID? {
        String.fromDatabaseValue(dbValue).flatMap(DocumentID.init)
    }
}

extension DocumentState: DatabaseValueConvertible {}
extension IntakeSource: DatabaseValueConvertible {}
