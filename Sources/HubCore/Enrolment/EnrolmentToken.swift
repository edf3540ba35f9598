import Crypto
import Foundation

/// A one-time enrolment token (docs/protocol.md, "Enrolment"): 128 random bits, written in
/// Crockford's base32 in groups (`7K-3M9Q-…`) so that a technician can read it over the phone —
/// no I, L, O or U, and those misread are taken as 1 and 0. 128 bits make guessing hopeless, so
/// the hub needs no lock-out that a prober could use to lock a commune out.
package struct EnrolmentToken: Sendable, Equatable {
    package let bytes: [UInt8]

    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    package static func random() -> EnrolmentToken {
        var generator = SystemRandomNumberGenerator()
        return EnrolmentToken(bytes: (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// Reads a token as printed, in any case, with or without dashes and spaces.
    package init?(text: String) {
        var bits: [UInt8] = []
        for character in text.uppercased() where character != "-" && !character.isWhitespace {
            let symbol: Character = switch character {
            case "O": "0"
            case "I", "L": "1"
            default: character
            }
            guard let value = Self.alphabet.firstIndex(of: symbol) else { return nil }
            bits += (0..<5).reversed().map { UInt8((value >> $0) & 1) }
        }
        // 26 symbols: 128 bits and two zero bits of padding.
        guard bits.count == 130, bits[128] == 0, bits[129] == 0 else { return nil }
        bytes = stride(from: 0, to: 128, by: 8).map { start in bits[start..<start + 8].reduce(0) { $0 << 1 | $1 } }
    }

    /// 26 symbols in groups: 2, then six of 4.
    package var text: String {
        var bits: [Int] = bytes.flatMap { byte -> [Int] in (0..<8).reversed().map { Int(byte >> $0) & 1 } } + [0, 0]
        var symbols: [Character] = []
        while !bits.isEmpty {
            symbols.append(Self.alphabet[bits.prefix(5).reduce(0) { $0 << 1 | $1 }])
            bits.removeFirst(5)
        }
        var groups = [String(symbols.prefix(2))]
        for start in stride(from: 2, to: symbols.count, by: 4) { groups.append(String(symbols[start..<start + 4])) }
        return groups.joined(separator: "-")
    }

    /// What the hub stores: the token itself is never written anywhere at the hub.
    package var sha256: [UInt8] { Array(SHA256.hash(data: bytes)) }

    /// Equal without returning early: how long a comparison takes says nothing of where it differed.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
