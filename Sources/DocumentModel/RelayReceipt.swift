import Foundation

/// What a hub's receipt says (docs/protocol.md, "Receipts"): JSON carried inside a CMS SignedData
/// the hub signs. One type for both ends of the relay — the hub encodes it (HubCore's
/// ReceiptSigner), the box decodes and checks it (GatewayCore's ReceiptVerifier) — so the two
/// cannot drift apart; openssl reads the same bytes without our code.
package struct RelayReceipt: Codable, Sendable, Equatable {
    package struct Hub: Codable, Sendable, Equatable {
        package var code: String
        /// Always written by hubd; optional when read, so a hub that leaves it out is still understood.
        package var name: String?

        package init(code: String, name: String?) {
            self.code = code
            self.name = name
        }
    }

    package var type: String
    package var key: String
    package var kind: String
    package var sha256: String
    package var size: Int64
    package var from: String
    package var receivedAt: String
    package var hub: Hub
    /// The newest entry of the sending box's audit chain when it submitted the package (the
    /// anchor it sent), signed here by the hub. Absent from receipts of older hubs and boxes, and
    /// left out of the encoding then, so their bytes (and signatures) are what they always were.
    package var auditHead: AuditAnchor?

    package static let currentType = "hubd-receipt/1"

    enum CodingKeys: String, CodingKey { case type, key, kind, sha256, size, from, receivedAt = "received_at", hub, auditHead = "audit_head" }

    package init(type: String = RelayReceipt.currentType, key: String, kind: String, sha256: String, size: Int64, from: String,
                receivedAt: String, hub: Hub, auditHead: AuditAnchor? = nil) {
        self.type = type
        self.key = key
        self.kind = kind
        self.sha256 = sha256
        self.size = size
        self.from = from
        self.receivedAt = receivedAt
        self.hub = hub
        self.auditHead = auditHead
    }

    /// The bytes the hub signs: sorted keys and unescaped slashes, so the same content always gives
    /// the same bytes, and a DocumentId such as "125/QĐ-UBND" reads as written.
    package func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
