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

    package static let currentType = "hubd-receipt/1"

    enum CodingKeys: String, CodingKey { case type, key, kind, sha256, size, from, receivedAt = "received_at", hub }

    package init(type: String = RelayReceipt.currentType, key: String, kind: String, sha256: String, size: Int64, from: String,
                receivedAt: String, hub: Hub) {
        self.type = type
        self.key = key
        self.kind = kind
        self.sha256 = sha256
        self.size = size
        self.from = from
        self.receivedAt = receivedAt
        self.hub = hub
    }

    /// The bytes the hub signs: sorted keys and unescaped slashes, so the same content always gives
    /// the same bytes, and a DocumentId such as "125/QĐ-UBND" reads as written.
    package func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
