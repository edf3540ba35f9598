/// BER-TLV as PIV data objects use it (ISO/IEC 7816-4 §5.2, NIST SP 800-73-4 Part 1 §3):
///
///     tag    = first byte [ b8..b6: class and constructed bit; b5..b1 = 11111 → more bytes follow,
///              each with b8 = 1 while another follows ]
///     length = 0x00..0x7F | 0x81 L | 0x82 L L | 0x83 L L L     (definite form only)
///     value  = length bytes; for a constructed tag (b6 = 1), itself a sequence of TLVs
///
/// Parsing is all-or-nothing: any truncated or malformed input is an error, never a crash or a
/// partial result (a card's answer is untrusted input).
package struct TLV: Sendable, Equatable {
    /// The tag's bytes as they are on the wire (1–4 bytes), e.g. `[0x5F, 0xC1, 0x05]`.
    var tag: [UInt8]
    package var value: [UInt8]

    package init(tag: [UInt8], value: [UInt8]) {
        self.tag = tag
        self.value = value
    }

    package init(tag: UInt8, value: [UInt8]) { self.init(tag: [tag], value: value) }

    var isConstructed: Bool { (tag.first ?? 0) & 0x20 != 0 }

    package enum ParseError: Error, Equatable, Sendable {
        case truncatedTag(offset: Int)
        case tagTooLong(offset: Int)
        case truncatedLength(offset: Int)
        case indefiniteLength(offset: Int)
        case lengthTooLong(offset: Int)
        case truncatedValue(offset: Int, needed: Int, available: Int)
    }

    /// Every TLV in `bytes`, in order; the bytes must be exactly a sequence of TLVs.
    static func parseAll(_ bytes: [UInt8]) throws(ParseError) -> [TLV] {
        var items: [TLV] = []
        var offset = 0
        while offset < bytes.count {
            let (item, next) = try parse(bytes, at: offset)
            items.append(item)
            offset = next
        }
        return items
    }

    /// One TLV starting at `offset`; returns it and the offset after it.
    static func parse(_ bytes: [UInt8], at start: Int) throws(ParseError) -> (TLV, Int) {
        var offset = start
        guard offset < bytes.count else { throw .truncatedTag(offset: offset) }
        var tag = [bytes[offset]]
        offset += 1
        if tag[0] & 0x1F == 0x1F {
            while true {
                guard offset < bytes.count else { throw .truncatedTag(offset: offset) }
                let byte = bytes[offset]
                tag.append(byte)
                offset += 1
                if byte & 0x80 == 0 { break }
                guard tag.count < 4 else { throw .tagTooLong(offset: start) }
            }
        }
        guard offset < bytes.count else { throw .truncatedLength(offset: offset) }
        let first = bytes[offset]
        offset += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else if first == 0x80 {
            throw .indefiniteLength(offset: offset - 1)
        } else {
            let count = Int(first & 0x7F)
            guard count <= 3 else { throw .lengthTooLong(offset: offset - 1) }
            guard offset + count <= bytes.count else { throw .truncatedLength(offset: offset) }
            for byte in bytes[offset..<(offset + count)] { length = length << 8 | Int(byte) }
            offset += count
        }
        let available = bytes.count - offset
        guard length <= available else { throw .truncatedValue(offset: offset, needed: length, available: available) }
        return (TLV(tag: tag, value: Array(bytes[offset..<(offset + length)])), offset + length)
    }

    /// The children of a constructed TLV (or of any value holding TLVs, as PIV containers do).
    func children() throws(ParseError) -> [TLV] { try TLV.parseAll(value) }

    /// DER-style minimal length encoding.
    var encoded: [UInt8] {
        var bytes = tag
        let count = value.count
        switch count {
        case ..<0x80: bytes.append(UInt8(count))
        case ..<0x100: bytes += [0x81, UInt8(count)]
        case ..<0x10000: bytes += [0x82, UInt8(count >> 8), UInt8(count & 0xFF)]
        default: bytes += [0x83, UInt8(count >> 16), UInt8((count >> 8) & 0xFF), UInt8(count & 0xFF)]
        }
        return bytes + value
    }
}

extension Array where Element == TLV {
    /// The first item with this tag.
    package func first(tag: [UInt8]) -> TLV? { first { $0.tag == tag } }
    package func first(tag: UInt8) -> TLV? { first(tag: [tag]) }
}
