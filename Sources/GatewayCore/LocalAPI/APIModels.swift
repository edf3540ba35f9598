import Foundation

/// A document as the API shows it: the stored record, plus whether a submission was a retry and,
/// for a single document, its audit trail.
public struct DocumentView: Sendable, Codable {
    package var document: DocumentRecord
    public var duplicate: Bool?
    package var history: [TransitionRecord]?
    /// What the recipients said about it (edXML statuses brought down by the relay).
    package var statuses: [RecipientStatusRecord]?

    package init(document: DocumentRecord, duplicate: Bool? = nil, history: [TransitionRecord]? = nil, statuses: [RecipientStatusRecord]? = nil) {
        self.document = document
        self.duplicate = duplicate
        self.history = history
        self.statuses = statuses
    }

    enum ExtraKeys: String, CodingKey { case duplicate, history, statuses = "recipient_statuses" }

    public func encode(to encoder: any Encoder) throws {
        try document.encode(to: encoder)
        var container = encoder.container(keyedBy: ExtraKeys.self)
        try container.encodeIfPresent(duplicate, forKey: .duplicate)
        try container.encodeIfPresent(history, forKey: .history)
        try container.encodeIfPresent(statuses, forKey: .statuses)
    }

    public init(from decoder: any Decoder) throws {
        document = try DocumentRecord(from: decoder)
        let container = try decoder.container(keyedBy: ExtraKeys.self)
        duplicate = try container.decodeIfPresent(Bool.self, forKey: .duplicate)
        history = try container.decodeIfPresent([TransitionRecord].self, forKey: .history)
        statuses = try container.decodeIfPresent([RecipientStatusRecord].self, forKey: .statuses)
    }
}

public struct DocumentList: Sendable, Codable {
    package var documents: [DocumentRecord]
}

/// `GET /v1/inbox`: what the hub brought down for this commune, newest first.
public struct InboxList: Sendable, Codable {
    public struct Entry: Sendable, Codable, Equatable {
        public var hubId: Int64
        /// `document` or `status`.
        public var kind: String
        public var key: String
        public var from: String
        public var size: Int64
        public var storedAt: Date
        /// When the hub accepted our 01 "đã đến" for it (documents).
        public var statusSentAt: Date?
        /// Its folder inside `inbox_folder`, once placed there (documents).
        public var folder: String?

        enum CodingKeys: String, CodingKey {
            case hubId = "hub_id", kind, key, from, size, storedAt = "stored_at", statusSentAt = "status_sent_at", folder
        }

        package init(_ record: InboundRecord) {
            hubId = record.hubID
            kind = record.kind
            key = record.packageKey
            from = record.sender
            size = record.size
            storedAt = record.storedAt
            statusSentAt = record.statusSentAt
            folder = record.folder
        }
    }

    /// The folder clerks open (`[inbox] folder`).
    public var inboxFolder: String
    public var items: [Entry]

    enum CodingKeys: String, CodingKey { case inboxFolder = "inbox_folder", items }

    public init(inboxFolder: String, items: [Entry]) {
        self.inboxFolder = inboxFolder
        self.items = items
    }
}

/// `GET /v1/directory`: the hub's agency directory as last fetched (empty before the first fetch).
public struct DirectoryList: Sendable, Codable {
    public var fetchedAt: Date?
    public var agencies: [AgencyDirectory.Entry]

    enum CodingKeys: String, CodingKey { case fetchedAt = "fetched_at", agencies }

    public init(fetchedAt: Date?, agencies: [AgencyDirectory.Entry]) {
        self.fetchedAt = fetchedAt
        self.agencies = agencies
    }
}

/// `GET /v1/status`.
public struct DaemonStatus: Sendable, Codable {
    public var version: String
    public var pid: Int32
    public var dataDirectory: String
    public var startedAt: Date
    public var uptimeSeconds: Int
    public var documentsByState: [String: Int]
    public var freeBytes: Int64
    public var diskReserve: Int64
    public var intake: String
    public var hotFolder: HotFolderIntake.Snapshot?
    public var tokens: TokenServiceStatus?
    /// Nil when no `[upstream]` is configured.
    public var relay: RelayStatus?

    enum CodingKeys: String, CodingKey {
        case version, pid, dataDirectory = "data_dir", startedAt = "started_at", uptimeSeconds = "uptime_seconds", documentsByState = "documents_by_state"
        case freeBytes = "free_bytes", diskReserve = "disk_reserve", intake, hotFolder = "hot_folder", tokens, relay
    }
}

/// The error body every refusal has.
public struct APIErrorBody: Sendable, Codable, Error {
    public struct Detail: Sendable, Codable {
        public var code: String
        public var messageVi: String
        public var messageEn: String
        public var field: String?

        enum CodingKeys: String, CodingKey {
            case code, messageVi = "message_vi", messageEn = "message_en", field
        }
    }

    public var error: Detail
}

public enum GatewayVersion {
    public static let current = "0.1.0"
}
