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

    /// Escaped for both element content and quoted attribute values.
    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            // Control characters have no business on a page (and some confuse parsers).
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}", "\u{7F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Pieces joined, e.g. table rows.
    package static func join(_ parts: [HTML], separator: HTML = "") -> HTML {
        HTML(raw: parts.map(\.rendered).joined(separator: separator.rendered))
    }
}
