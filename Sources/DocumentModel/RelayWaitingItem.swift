import Foundation

/// One package waiting at the hub for someone to fetch it (docs/protocol.md, "Inbox"): a
/// commune's box long-polls `GET /v1/inbox`, the district/province office `GET /v1/office/inbox`.
/// One type for both ends, like `RelayReceipt`: hubd encodes it, gatewayd decodes it.
public struct RelayWaitingItem: Codable, Sendable, Equatable {
    /// The hub's id for this delivery: what the box fetches and acknowledges.
    public var id: Int64
    /// `document` or `status`.
    public var kind: String
    /// The package key (edXML DocumentId, scoped by its sender).
    public var key: String
    /// The sender's agency code.
    public var from: String
    public var size: Int64
    public var sha256: String
    public var queuedAt: String
    /// The hand-off file's path on the hub (office listings only).
    public var file: String?

    enum CodingKeys: String, CodingKey { case id, kind, key, from, size, sha256, queuedAt = "queued_at", file }

    public init(id: Int64, kind: String, key: String, from: String, size: Int64, sha256: String, queuedAt: String, file: String?) {
        self.id = id
        self.kind = kind
        self.key = key
        self.from = from
        self.size = size
        self.sha256 = sha256
        self.queuedAt = queuedAt
        self.file = file
    }
}

/// What an inbox item holds. `kind` stays a string on the wire so that a newer hub's kinds still
/// decode on an older box (as nil: stored, not answered).
public enum RelayPackageKind: String, Sendable, Codable, CaseIterable {
    case document
    case status
}

extension RelayWaitingItem {
    public var packageKind: RelayPackageKind? { RelayPackageKind(rawValue: kind) }
}

/// The body of an inbox answer: `{"items": [...]}`.
public struct RelayWaitingList: Codable, Sendable, Equatable {
    public var items: [RelayWaitingItem]

    public init(items: [RelayWaitingItem]) { self.items = items }
}
