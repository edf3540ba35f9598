import Foundation

/// Document identifiers are UUIDv7 (RFC 9562 §5.7): the first 48 bits are the Unix time in
/// milliseconds, so ids sort by arrival and a directory listing or an index reads in order.
package struct DocumentID: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    package let uuid: UUID

    package init(uuid: UUID) { self.uuid = uuid }

    /// Parses the canonical lower-case or upper-case text form.
    package init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.uuid = uuid
    }

    /// Canonical text form, lower case as RFC 9562 recommends.
    package var description: String { uuid.uuidString.lowercased() }

    /// Milliseconds since the Unix epoch encoded in the id.
    package var unixMilliseconds: UInt64 {
        withUnsafeBytes(of: uuid.uuid) { raw in
            raw.prefix(6).reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
        }
    }

    package static func < (lhs: DocumentID, rhs: DocumentID) -> Bool {
        withUnsafeBytes(of: lhs.uuid.uuid) { l in
            withUnsafeBytes(of: rhs.uuid.uuid) { r in l.lexicographicallyPrecedes(r) }
        }
    }

    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = DocumentID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a document id: \(text)"))
        }
        self = id
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Makes UUIDv7 ids that are strictly increasing within one process, even when many are made
/// in the same millisecond or the wall clock steps back (RFC 9562 §6.2, method 1: the 12-bit
/// `rand_a` field is a counter seeded randomly each new millisecond).
///
/// Pure: time and randomness are passed in, so tests can pin both.
package struct DocumentIDGenerator: Sendable {
    private var lastMilliseconds: UInt64 = 0
    private var counter: UInt16 = 0

    package init() {}

    package mutating func next(unixMilliseconds now: UInt64, random: UInt64) -> DocumentID {
        var milliseconds = now
        if milliseconds > lastMilliseconds {
            lastMilliseconds = milliseconds
            counter = UInt16(truncatingIfNeeded: random >> 52) & 0x07FF  // leave headroom to count up
        } else {
            // Same millisecond, or the clock went back: keep order by counting on the last time.
            milliseconds = lastMilliseconds
            if counter >= 0x0FFF {
                lastMilliseconds += 1  // counter exhausted: borrow the next millisecond
                milliseconds = lastMilliseconds
                counter = 0
            } else {
                counter += 1
            }
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(index))) }
        bytes[6] = 0x70 | UInt8(counter >> 8)          // version 7 + high bits of rand_a
        bytes[7] = UInt8(truncatingIfNeeded: counter)
        var tail = random
        for index in 8..<16 { bytes[index] = UInt8(truncatingIfNeeded: tail); tail >>= 8 }
        bytes[8] = 0x80 | (bytes[8] & 0x3F)             // RFC 9562 variant
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return DocumentID(uuid: uuid)
    }
}
