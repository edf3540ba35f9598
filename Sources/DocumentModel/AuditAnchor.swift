/// A point of a box's audit trail (docs/protocol.md, "Audit anchors"): the position of one entry
/// of its hash chain and that entry's hash. The box sends its newest one with every package; the
/// hub signs it back inside the receipt, so that each stored receipt is a hub-signed witness of
/// the box's history up to that entry. One type for both ends, like `RelayReceipt`.
///
///     anchor = entry ":" sha256        ; on the wire (header, tus metadata)
///     entry  = 1*18DIGIT               ; the entry's sequence number, > 0, no leading zero
///     sha256 = 64(%x30-39 / %x61-66)   ; the entry's chain hash, lowercase hex
package struct AuditAnchor: Sendable, Equatable, Codable, CustomStringConvertible {
    package let entry: Int64
    package let sha256: String

    /// Nil unless `entry` is positive and `sha256` is 64 lowercase hex digits.
    package init?(entry: Int64, sha256: String) {
        guard entry > 0, Self.isHash(sha256) else { return nil }
        self.entry = entry
        self.sha256 = sha256
    }

    /// Strict, all or nothing: what a hostile client sends is refused, not repaired.
    package init?(wire: String) {
        let parts = wire.utf8.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard parts.count == 2, let digits = parts.first, (1...18).contains(digits.count), digits.first != UInt8(ascii: "0"),
              digits.allSatisfy({ (0x30...0x39).contains($0) }), let entry = Int64(String(decoding: digits, as: UTF8.self))
        else { return nil }
        self.init(entry: entry, sha256: String(decoding: parts[1], as: UTF8.self))
    }

    package var wire: String { "\(entry):\(sha256)" }
    package var description: String { wire }

    static func isHash(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    enum CodingKeys: String, CodingKey { case entry, sha256 }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let entry = try container.decode(Int64.self, forKey: .entry), sha256 = try container.decode(String.self, forKey: .sha256)
        guard let anchor = AuditAnchor(entry: entry, sha256: sha256) else {
            throw DecodingError.dataCorruptedError(forKey: .sha256, in: container, debugDescription: "not an audit anchor: \(entry):\(sha256)")
        }
        self = anchor
    }
}
