import Foundation

/// One package waiting at the hub for someone to fetch it (docs/protocol.md, "Inbox"): a
/// commune's box long-polls `GET /v1/inbox`, the district/province office `GET /v1/office/inbox`.
/// One type for both ends, like `RelayReceipt`: hubd encodes it, gatewayd decodes it.
package struct RelayWaitingItem: Codable, Sendable, Equatable {
    /// The hub's id for this delivery: what the box fetches and acknowledges.
    package var id: Int64
    /// `document` or `status`.
    package var kind: String
    /// The package key (edXML DocumentId, scoped by its sender).
    package var key: String
    /// The sender's agency code.
    package var from: String
    package var size: Int64
    package var sha256: String
    package var queuedAt: String
    /// The hand-off file's path on the hub (office listings only).
    package var file: String?

    enum CodingKeys: String, CodingKey { case id, kind, key, from, size, sha256, queuedAt = "queued_at", file }

    package init(id: Int64, kind: String, key: String, from: String, size: Int64, sha256: String, queuedAt: String, file: String?) {
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
package enum RelayPackageKind: String, Sendable, Codable, CaseIterable {
    case document
    case status
}

extension RelayWaitingItem {
    package var packageKind: RelayPackageKind? { RelayPackageKind(rawValue: kind) }
}

/// The body of an inbox answer: `{"items": [...]}`.
package struct RelayWaitingList: Codable, Sendable, Equatable {
    package var items: [RelayWaitingItem]

    package init(items: [RelayWaitingItem]) { self.items = items }
}

/// Why a box refuses an inbox item it can never take (`POST /v1/inbox/{id}/refuse`, docs/protocol.md):
/// larger than it accepts, unreadable, fields that break the rules. The hub stops offering the
/// item and passes the reason to the sender as a status 02 "refused".
package struct RelayInboxRefusal: Codable, Sendable, Equatable {
    /// `too_large`, `unreadable_package` or `invalid_fields` (the hub's own codes, same meaning).
    package var code: String
    package var message_vi: String
    package var message_en: String

    package init(code: RelayErrorCode, vi: String, en: String) {
        self.code = code.rawValue
        message_vi = vi
        message_en = en
    }

    /// "Tiếng Việt / English", as the status's Description carries it.
    package var message: String { "\(message_vi) / \(message_en)" }
}
