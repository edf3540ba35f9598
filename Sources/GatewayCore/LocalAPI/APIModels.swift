import DocumentModel
import Foundation

/// A document as the API shows it: the stored record, plus whether a submission was a retry and,
/// for a single document, its audit trail.
package struct DocumentView: Sendable, Codable {
    package var document: DocumentRecord
    package var duplicate: Bool?
    package var history: [TransitionRecord]?
    /// What the recipients said about it (edXML statuses brought down by the relay).
    package var statuses: [RecipientStatusRecord]?
    /// The signatures made on the box: who, which certificate, which role, which version.
    package var signatures: [SignatureRecord]?
    /// Its attachments (phụ lục), in order, with their signatures once the seal made them.
    package var attachments: [AttachmentRecord]?

    package init(document: DocumentRecord, duplicate: Bool? = nil, history: [TransitionRecord]? = nil, statuses: [RecipientStatusRecord]? = nil,
                 signatures: [SignatureRecord]? = nil, attachments: [AttachmentRecord]? = nil) {
        self.document = document
        self.attachments = attachments
        self.signatures = signatures
        self.duplicate = duplicate
        self.history = history
        self.statuses = statuses
    }

    enum ExtraKeys: String, CodingKey { case duplicate, history, statuses = "recipient_statuses", signatures, attachments }

    package func encode(to encoder: any Encoder) throws {
        try document.encode(to: encoder)
        var container = encoder.container(keyedBy: ExtraKeys.self)
        try container.encodeIfPresent(duplicate, forKey: .duplicate)
        try container.encodeIfPresent(history, forKey: .history)
        try container.encodeIfPresent(statuses, forKey: .statuses)
        try container.encodeIfPresent(signatures, forKey: .signatures)
        try container.encodeIfPresent(attachments, forKey: .attachments)
    }

    package init(from decoder: any Decoder) throws {
        document = try DocumentRecord(from: decoder)
        let container = try decoder.container(keyedBy: ExtraKeys.self)
        duplicate = try container.decodeIfPresent(Bool.self, forKey: .duplicate)
        history = try container.decodeIfPresent([TransitionRecord].self, forKey: .history)
        statuses = try container.decodeIfPresent([RecipientStatusRecord].self, forKey: .statuses)
        signatures = try container.decodeIfPresent([SignatureRecord].self, forKey: .signatures)
        attachments = try container.decodeIfPresent([AttachmentRecord].self, forKey: .attachments)
    }
}

/// The metadata of a submission as the local API reads it (`X-Gateway-Metadata`, docs/local-api.md,
/// "Metadata"): the raw values the clerk gave, checked by the daemon's `MetadataParser` (so a
/// recipient may be a name, and a wrong priority is refused there with its code). Absent fields
/// are left out of the JSON.
package struct SubmissionMetadata: Sendable, Codable, Equatable {
    package struct Signer: Sendable, Codable, Equatable {
        package var fullName: String?
        package var position: String?

        package init(fullName: String? = nil, position: String? = nil) {
            self.fullName = fullName
            self.position = position
        }

        enum CodingKeys: String, CodingKey { case fullName = "full_name", position }
    }

    package var fileName: String
    package var recipients: [String]?
    package var subject: String?
    package var number: String?
    package var notation: String?
    package var documentType: String?
    package var priority: Int?
    package var signer: Signer?
    package var signed: Bool
    /// `"signatures"`: checked by the daemon's parser (the signing flow's rules).
    package var signatures: [String]?
    /// The attachments' names, posted first under the submission's key (`POST /v1/attachments`).
    package var attachments: [String]?

    /// The rest is set field by field: what the clerk did not give stays out of the JSON.
    package init(fileName: String, signed: Bool = false) {
        self.fileName = fileName
        self.signed = signed
    }

    enum CodingKeys: String, CodingKey {
        case fileName = "file_name", recipients, subject, number, notation, documentType = "document_type", priority, signer, signed
        case signatures, attachments
    }

    /// The header's JSON: sorted keys, so the same submission always carries the same bytes.
    package func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }
}

/// `202` to `POST /v1/attachments`: an attachment staged for the document to be posted with the key.
package struct AttachmentStaged: Sendable, Codable, Equatable {
    package var fileName: String
    package var size: Int64
    package var idempotencyKey: String

    package init(fileName: String, size: Int64, idempotencyKey: String) {
        (self.fileName, self.size, self.idempotencyKey) = (fileName, size, idempotencyKey)
    }

    enum CodingKeys: String, CodingKey { case fileName = "file_name", size, idempotencyKey = "idempotency_key" }
}

/// `202` to `POST /v1/inbox/ID/status`: the clerk's status as recorded, for the command line
/// (the answer carries more fields; these are the ones a client relies on).
package struct ClerkStatusAccepted: Sendable, Decodable, Equatable {
    package var hubID: Int64
    package var statusCode: String
    package var description: String?
    package var staff: String?
    package var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case hubID = "hub_id", statusCode = "status_code", description, staff, createdAt = "created_at"
    }
}

package struct DocumentList: Sendable, Codable {
    package var documents: [DocumentRecord]
}

/// `GET /v1/inbox`: what the hub brought down for this commune, newest first.
package struct InboxList: Sendable, Codable {
    package struct Entry: Sendable, Codable, Equatable {
        package var hubId: Int64
        /// `document` or `status` on the wire; nil for a kind this box does not know.
        package var kind: RelayPackageKind?
        package var key: String
        package var from: String
        package var size: Int64
        package var storedAt: Date
        /// When the hub accepted our 01 "đã đến" for it (documents).
        package var statusSentAt: Date?
        /// Its folder inside `inbox_folder`, once placed there (documents).
        package var folder: String?
        /// Its signatures as checked on arrival (documents; absent until checked).
        package var verdict: IncomingVerdict?

        enum CodingKeys: String, CodingKey {
            case hubId = "hub_id", kind, key, from, size, storedAt = "stored_at", statusSentAt = "status_sent_at", folder, verdict
        }

        package init(_ record: InboundRecord) {
            hubId = record.hubID
            kind = RelayPackageKind(rawValue: record.kind)
            key = record.packageKey
            from = record.sender
            size = record.size
            storedAt = record.storedAt
            statusSentAt = record.statusSentAt
            folder = record.folder
            verdict = record.verdict
        }
    }

    /// The folder clerks open (`[inbox] folder`).
    package var inboxFolder: String
    package var items: [Entry]

    enum CodingKeys: String, CodingKey { case inboxFolder = "inbox_folder", items }

    package init(inboxFolder: String, items: [Entry]) {
        self.inboxFolder = inboxFolder
        self.items = items
    }
}

/// `GET /v1/directory`: the hub's agency directory as last fetched (empty before the first fetch).
package struct DirectoryList: Sendable, Codable {
    package var fetchedAt: Date?
    package var agencies: [AgencyDirectory.Entry]

    enum CodingKeys: String, CodingKey { case fetchedAt = "fetched_at", agencies }

    package init(fetchedAt: Date?, agencies: [AgencyDirectory.Entry]) {
        self.fetchedAt = fetchedAt
        self.agencies = agencies
    }
}

/// `GET /v1/status`.
package struct DaemonStatus: Sendable, Codable {
    package var version: String
    package var pid: Int32
    package var dataDirectory: String
    package var startedAt: Date
    package var uptimeSeconds: Int
    package var documentsByState: [String: Int]
    package var freeBytes: Int64
    package var diskReserve: Int64
    package var intake: String
    package var hotFolder: HotFolderIntake.Snapshot?
    package var tokens: TokenServiceStatus?
    /// Nil when no `[upstream]` is configured.
    package var relay: RelayStatus?
    /// The box's certificate and its renewal; nil when the box does not enrol (docs/protocol.md).
    package var certificate: BoxCertificateStatus?

    enum CodingKeys: String, CodingKey {
        case version, pid, dataDirectory = "data_dir", startedAt = "started_at", uptimeSeconds = "uptime_seconds", documentsByState = "documents_by_state"
        case freeBytes = "free_bytes", diskReserve = "disk_reserve", intake, hotFolder = "hot_folder", tokens, relay, certificate
    }
}

/// The error body every refusal has.
package struct APIErrorBody: Sendable, Codable, Error {
    package struct Detail: Sendable, Codable {
        package var code: String
        package var messageVi: String
        package var messageEn: String
        package var field: String?

        enum CodingKeys: String, CodingKey {
            case code, messageVi = "message_vi", messageEn = "message_en", field
        }
    }

    package var error: Detail
}

package enum GatewayVersion {
    package static let current = "0.1.0"
}
