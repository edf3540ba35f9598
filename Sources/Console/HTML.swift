// Markup as a value whose interpolation escapes: the only way to put a person's text on a page.

/// A piece of HTML that is safe to send. Text interpolated into it (`"<td>\(user.displayName)</td>"`)
/// is escaped; only another `HTML` value goes in as markup. Raw markup comes from string literals
/// (the programmer's own) or, explicitly, `HTML(raw:)`, so nothing a user typed can reach a page
/// unescaped by accident.
package struct HTML: Sendable, Equatable, ExpressibleByStringInterpolation {
    /// The markup, ready to send.
    package private(set) var rendered: String

    /// Markup taken as it is: for text the program itself made, never for a person's input.
    package init(raw: String) { rendered = raw }
    package init(stringLiteral value: String) { rendered = value }
    package init(stringInterpolation: Interpolation) { rendered = stringInterpolation.rendered }

    package struct Interpolation: StringInterpolationProtocol {
        var rendered = ""
        package init(literalCapacity: Int, interpolationCount: Int) { rendered.reserveCapacity(literalCapacity + 16 * interpolationCount) }
        package mutating func appendLiteral(_ literal: String) { rendered += literal }
        package mutating func appendInterpolation(_ html: HTML) { rendered += html.rendered }
        package mutating func appendInterpolation(_ parts: [HTML]) { for part in parts { rendered += part.rendered } }
        package mutating func appendInterpolation(_ text: String) { rendered += HTML.escape(text) }
        package mutating func appendInterpolation(_ text: String?) { rendered += HTML.escape(text ?? "") }
        package mutating func appendInterpolation(_ number: Int) { rendered += String(number) }
    }

    /// Escaped for both element content and quoted attribute values. Works on the UTF-8 bytes:
    /// every character it changes is ASCII, and no byte of a multi-byte sequence is, so a text
    /// with nothing to change (most of a page's) is returned as it is, without a copy.
    package static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { replacement(for: $0) != nil }) else { return text }
        return String(unsafeUninitializedCapacity: text.utf8.count * 6) { buffer in
            var end = 0
            for byte in text.utf8 {
                if let replacement = replacement(for: byte) {
                    for piece in replacement { buffer[end] = piece; end += 1 }
                } else {
                    buffer[end] = byte; end += 1
                }
            }
            return end
        }
    }

    private static let ampersand = Array("&amp;".utf8), lessThan = Array("&lt;".utf8), greaterThan = Array("&gt;".utf8)
    private static let quote = Array("&quot;".utf8), apostrophe = Array("&#39;".utf8), unknown = Array("\u{FFFD}".utf8)

    private static func replacement(for byte: UInt8) -> [UInt8]? {
        switch byte {
        case UInt8(ascii: "&"): return ampersand
        case UInt8(ascii: "<"): return lessThan
        case UInt8(ascii: ">"): return greaterThan
        case UInt8(ascii: "\""): return quote
        case UInt8(ascii: "'"): return apostrophe
        // Control characters have no business on a page (and some confuse parsers).
        case 0x00...0x08, 0x0B, 0x0C, 0x0E...0x1F, 0x7F: return unknown
        default: return nil
        }
    }

    /// Pieces joined, e.g. table rows.
    package static func join(_ parts: [HTML], separator: HTML = "") -> HTML {
        HTML(raw: parts.map(\.rendered).joined(separator: separator.rendered))
    }
}
