// A bounded streaming reader of `multipart/form-data` (RFC 7578): Hummingbird 2.28.1 has no
// multipart support of its own, and an upload must go to the store's staging as it arrives, never
// whole in memory. The reader holds at most one chunk plus the delimiter's length of a file part,
// and a bounded amount of headers.
import Foundation

/// One part's headers: the form field's name and, for a file, the name the browser gave.
struct MultipartPart: Equatable, Sendable {
    var name: String
    var fileName: String?
    var contentType: String?
}

enum MultipartError: Error, Equatable {
    /// Not `multipart/form-data` with a boundary, or a body that breaks the format.
    case malformed(String)
}

/// Bytes in, events out: a part begins, some of its bytes, the body ends. Fed chunk by chunk; the
/// caller writes file bytes where they belong as they come.
struct MultipartParser {
    enum Event: Equatable {
        case part(MultipartPart)
        case data([UInt8])
        case end
    }

    /// A part's headers may not be longer than this (a browser sends about 150 bytes).
    static let headerLimit = 8 * 1024
    /// Nor the text before the first boundary.
    static let preambleLimit = 8 * 1024

    private enum State { case preamble, afterDelimiter, headers, body, done }

    private let delimiter: [UInt8]
    private var buffer: [UInt8]
    private var state = State.preamble
    private var preambleSeen = 0

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        // The first delimiter may open the body without the line break before it.
        buffer = Array("\r\n".utf8)
    }

    /// The boundary of a `multipart/form-data` content type; nil for any other type.
    static func boundary(contentType: String?) -> String? {
        guard let contentType else { return nil }
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for part in parts.dropFirst() where part.lowercased().hasPrefix("boundary=") {
            var value = String(part.dropFirst("boundary=".count))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    var isDone: Bool { state == .done }

    mutating func feed(_ bytes: some Sequence<UInt8>, _ emit: (Event) throws -> Void) throws {
        buffer.append(contentsOf: bytes)
        while true {
            switch state {
            case .done:
                buffer.removeAll()  // the epilogue is ignored
                return
            case .preamble:
                guard let found = Self.search(buffer, delimiter) else {
                    let keep = min(buffer.count, delimiter.count - 1)
                    preambleSeen += buffer.count - keep
                    if preambleSeen > Self.preambleLimit { throw MultipartError.malformed("no boundary") }
                    buffer.removeFirst(buffer.count - keep)
                    return
                }
                buffer.removeFirst(found + delimiter.count)
                state = .afterDelimiter
            case .afterDelimiter:
                guard buffer.count >= 2 else { return }
                if buffer[0] == UInt8(ascii: "-"), buffer[1] == UInt8(ascii: "-") {
                    state = .done
                    try emit(.end)
                } else if buffer[0] == UInt8(ascii: "\r"), buffer[1] == UInt8(ascii: "\n") {
                    buffer.removeFirst(2)
                    state = .headers
                } else {
                    throw MultipartError.malformed("bad delimiter line")
                }
            case .headers:
                guard let found = Self.search(buffer, Array("\r\n\r\n".utf8)) else {
                    if buffer.count > Self.headerLimit { throw MultipartError.malformed("part headers too long") }
                    return
                }
                guard found <= Self.headerLimit, let text = String(validating: buffer[..<found], as: UTF8.self) else {
                    throw MultipartError.malformed("part headers")
                }
                buffer.removeFirst(found + 4)
                try emit(.part(try Self.part(headers: text)))
                state = .body
            case .body:
                if let found = Self.search(buffer, delimiter) {
                    if found > 0 { try emit(.data(Array(buffer[..<found]))) }
                    buffer.removeFirst(found + delimiter.count)
                    state = .afterDelimiter
                } else {
                    // Everything but what could be the start of a delimiter split across chunks.
                    let safe = buffer.count - min(buffer.count, delimiter.count - 1)
                    if safe > 0 {
                        try emit(.data(Array(buffer[..<safe])))
                        buffer.removeFirst(safe)
                    }
                    return
                }
            }
        }
    }

    /// The body ended: it must have ended with the closing delimiter.
    func finish() throws {
        guard state == .done else { throw MultipartError.malformed("the body ended before its closing boundary") }
    }

    static func part(headers text: String) throws -> MultipartPart {
        var part: MultipartPart?
        var contentType: String?
        for line in text.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "content-type" { contentType = value }
            guard name == "content-disposition" else { continue }
            let parameters = Self.parameters(value)
            guard let fieldName = parameters["name"] else { throw MultipartError.malformed("a part without a name") }
            part = MultipartPart(name: fieldName, fileName: parameters["filename"])
        }
        guard var part else { throw MultipartError.malformed("a part without Content-Disposition") }
        part.contentType = contentType
        return part
    }

    /// `form-data; name="x"; filename="a b.pdf"`: browsers send names as UTF-8 in quotes, with
    /// `"` as `%22` (and a backslash escape from some).
    static func parameters(_ value: String) -> [String: String] {
        var found: [String: String] = [:]
        var rest = Substring(value)
        while let semicolon = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semicolon)...].drop { $0 == " " }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].lowercased()
            rest = rest[rest.index(after: equals)...]
            var text = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\", let next = rest.first { text.append(next); rest = rest.dropFirst() } else { text.append(character) }
                }
                rest = rest.dropFirst()
            } else {
                text = String(rest.prefix { $0 != ";" })
                rest = rest.dropFirst(text.count)
            }
            if found[key] == nil { found[key] = text.replacingOccurrences(of: "%22", with: "\"") }
        }
        return found
    }

    static func search(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count, let first = needle.first else { return nil }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}
