/// The lexer and object parser of ISO 32000-1 §7.2–7.3 over a window of bytes. A window is a
/// piece of the file read at `base`; reaching its end throws `.truncated(offset:)` with the
/// offset where more was needed, which `PDFDocument` answers by reading a larger window (or, at
/// the file's real end, reports as a truncated file). Nesting is limited, so hostile input
/// (`[[[[[[…`) cannot exhaust the stack.
struct PDFParser {
    enum Token: Equatable {
        case integer(Int)
        case real(String)
        case string([UInt8], hex: Bool)
        case name(PDFName)
        case keyword(String)
        case arrayStart, arrayEnd, dictionaryStart, dictionaryEnd
    }

    static let maximumDepth = 100
    /// A single string, name or number longer than this is not a real document's.
    static let maximumTokenLength = 16 << 20

    let bytes: [UInt8]
    /// The file offset of `bytes[0]`.
    let base: Int
    /// Whether the window ends where the file ends (then running out is a truncated file).
    var position: Int

    init(bytes: [UInt8], base: Int = 0, position: Int = 0) {
        self.bytes = bytes
        self.base = base
        self.position = position
    }

    var fileOffset: Int { base + position }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 || byte == 0x0C || byte == 0x00
    }

    static func isDelimiter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "["),
             UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "/"), UInt8(ascii: "%"):
            true
        default: false
        }
    }

    static func isRegular(_ byte: UInt8) -> Bool { !isWhitespace(byte) && !isDelimiter(byte) }

    func truncated() -> PDFError { .truncated(offset: base + bytes.count) }

    func syntax(_ reason: String) -> PDFError { .syntax(offset: fileOffset, reason: reason) }

    mutating func skipWhitespaceAndComments() {
        while position < bytes.count {
            let byte = bytes[position]
            if Self.isWhitespace(byte) {
                position += 1
            } else if byte == UInt8(ascii: "%") {
                while position < bytes.count, bytes[position] != 0x0A, bytes[position] != 0x0D { position += 1 }
            } else {
                return
            }
        }
    }

    /// The next token; at the end of the window, `.truncated`.
    mutating func nextToken() throws -> Token {
        skipWhitespaceAndComments()
        guard position < bytes.count else { throw truncated() }
        let byte = bytes[position]
        switch byte {
        case UInt8(ascii: "["): position += 1; return .arrayStart
        case UInt8(ascii: "]"): position += 1; return .arrayEnd
        case UInt8(ascii: "{"): position += 1; return .keyword("{")
        case UInt8(ascii: "}"): position += 1; return .keyword("}")
        case UInt8(ascii: "("): return .string(try literalString(), hex: false)
        case UInt8(ascii: "/"): return .name(try name())
        case UInt8(ascii: "<"):
            guard position + 1 < bytes.count else { throw truncated() }
            if bytes[position + 1] == UInt8(ascii: "<") { position += 2; return .dictionaryStart }
            return .string(try hexString(), hex: true)
        case UInt8(ascii: ">"):
            guard position + 1 < bytes.count else { throw truncated() }
            guard bytes[position + 1] == UInt8(ascii: ">") else { throw syntax("a lone '>'") }
            position += 2
            return .dictionaryEnd
        case UInt8(ascii: ")"):
            throw syntax("a ')' outside a string")
        default:
            let start = position
            while position < bytes.count, Self.isRegular(bytes[position]) {
                position += 1
                if position - start > 255 { throw syntax("a keyword or number longer than 255 bytes") }
            }
            // A token that touches the window's end may continue beyond it.
            if position == bytes.count { throw truncated() }
            return try numberOrKeyword(bytes[start..<position])
        }
    }

    func numberOrKeyword(_ text: ArraySlice<UInt8>) throws -> Token {
        var sawDigit = false, sawDot = false, valid = true
        for (index, byte) in zip(text.indices, text) {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: "."): if sawDot { valid = false }; sawDot = true
            case UInt8(ascii: "+"), UInt8(ascii: "-"): if index != text.startIndex { valid = false }
            default: valid = false
            }
        }
        let string = String(decoding: text, as: UTF8.self)
        guard valid, sawDigit else { return .keyword(string) }
        if !sawDot, let value = Int(string) { return .integer(value) }
        // An integer too long for 64 bits is kept as the real it then is.
        return .real(string)
    }

    mutating func literalString() throws -> [UInt8] {
        let start = position
        position += 1  // "("
        var result: [UInt8] = []
        var depth = 1
        while true {
            guard position < bytes.count else { throw truncated() }
            if position - start > Self.maximumTokenLength { throw PDFError.limitExceeded("a string longer than 16 MB") }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "("):
                depth += 1
                result.append(byte)
            case UInt8(ascii: ")"):
                depth -= 1
                if depth == 0 { return result }
                result.append(byte)
            case 0x0D:
                // §7.3.4.2: an end of line inside a string (CR, LF or CR LF) is read as LF.
                if position < bytes.count, bytes[position] == 0x0A { position += 1 }
                result.append(0x0A)
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { throw truncated() }
                let escaped = bytes[position]
                position += 1
                switch escaped {
                case UInt8(ascii: "n"): result.append(0x0A)
                case UInt8(ascii: "r"): result.append(0x0D)
                case UInt8(ascii: "t"): result.append(0x09)
                case UInt8(ascii: "b"): result.append(0x08)
                case UInt8(ascii: "f"): result.append(0x0C)
                case 0x0D:
                    if position < bytes.count, bytes[position] == 0x0A { position += 1 }
                case 0x0A: break
                case UInt8(ascii: "0")...UInt8(ascii: "7"):
                    var value = Int(escaped - UInt8(ascii: "0"))
                    for _ in 0..<2 {
                        guard position < bytes.count else { throw truncated() }
                        let digit = bytes[position]
                        guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") else { break }
                        value = value * 8 + Int(digit - UInt8(ascii: "0"))
                        position += 1
                    }
                    result.append(UInt8(truncatingIfNeeded: value))
                default:
                    // `\(`, `\)`, `\\`, and (per §7.3.4.2) any other character stands for itself.
                    result.append(escaped)
                }
            default:
                result.append(byte)
            }
        }
    }

    mutating func hexString() throws -> [UInt8] {
        let start = position
        position += 1  // "<"
        var result: [UInt8] = []
        var high: UInt8?
        while true {
            guard position < bytes.count else { throw truncated() }
            if position - start > Self.maximumTokenLength { throw PDFError.limitExceeded("a string longer than 16 MB") }
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: ">") {
                // §7.3.4.3: an odd final digit is followed by an implied 0.
                if let high { result.append(high << 4) }
                return result
            }
            if Self.isWhitespace(byte) { continue }
            guard let nibble = Self.hexValue(byte) else { throw PDFError.syntax(offset: base + position - 1, reason: "not a hex digit in a hex string") }
            if let pending = high {
                result.append(pending << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    mutating func name() throws -> PDFName {
        position += 1  // "/"
        var result: [UInt8] = []
        while true {
            guard position < bytes.count else { throw truncated() }
            let byte = bytes[position]
            guard Self.isRegular(byte) else { break }
            if result.count > 65_535 { throw syntax("a name longer than 64 KB") }
            if byte == UInt8(ascii: "#"), position + 2 < bytes.count,
               let high = Self.hexValue(bytes[position + 1]), let low = Self.hexValue(bytes[position + 2]) {
                result.append(high << 4 | low)
                position += 3
            } else {
                result.append(byte)
                position += 1
            }
        }
        return PDFName(bytes: result)
    }

    /// One object; `N G R` becomes a reference. Streams are not handled here (see
    /// `parseIndirectObject`): inside an array or a dictionary a stream cannot occur.
    mutating func parseObject(depth: Int = 0) throws -> PDFObject {
        let token = try nextToken()
        return try object(startingWith: token, depth: depth)
    }

    mutating func object(startingWith token: Token, depth: Int) throws -> PDFObject {
        guard depth < Self.maximumDepth else { throw syntax("nesting deeper than \(Self.maximumDepth)") }
        switch token {
        case .integer(let value):
            // Maybe the start of `N G R`: look ahead, and step back if it is not.
            let saved = position
            if value >= 0, case .integer(let generation)? = try? nextToken(), generation >= 0,
               case .keyword("R")? = try? nextToken() {
                return .reference(PDFReference(value, generation))
            }
            position = saved
            return .integer(value)
        case .real(let text): return .real(text)
        case .string(let bytes, let hex): return .string(bytes, hex: hex)
        case .name(let name): return .name(name)
        case .keyword("true"): return .boolean(true)
        case .keyword("false"): return .boolean(false)
        case .keyword("null"): return .null
        case .arrayStart:
            var items: [PDFObject] = []
            while true {
                let next = try nextToken()
                if next == .arrayEnd { return .array(items) }
                items.append(try object(startingWith: next, depth: depth + 1))
            }
        case .dictionaryStart:
            return .dictionary(try dictionaryBody(depth: depth))
        case .keyword(let word):
            throw syntax("unexpected keyword '\(word.prefix(32))'")
        case .arrayEnd, .dictionaryEnd:
            throw syntax("unexpected end of array or dictionary")
        }
    }

    /// After `<<`: key/value pairs up to `>>`. A later duplicate key wins.
    mutating func dictionaryBody(depth: Int) throws -> PDFDictionary {
        var dictionary = PDFDictionary()
        while true {
            let next = try nextToken()
            if next == .dictionaryEnd { return dictionary }
            guard case .name(let key) = next else { throw syntax("a dictionary key that is not a name") }
            let valueToken = try nextToken()
            // `/Key >>` (a missing value) is seen in the wild; read it as null, as readers do.
            if valueToken == .dictionaryEnd { return dictionary }
            let value = try object(startingWith: valueToken, depth: depth + 1)
            if value != .null { dictionary[key] = value }
        }
    }

    /// `N G obj`: the numbers of an indirect object's header.
    mutating func indirectObjectHeader() throws -> PDFReference {
        guard case .integer(let number) = try nextToken(), number >= 0 else { throw syntax("expected an object number") }
        guard case .integer(let generation) = try nextToken(), generation >= 0 else { throw syntax("expected a generation number") }
        guard case .keyword("obj") = try nextToken() else { throw syntax("expected 'obj'") }
        return PDFReference(number, generation)
    }

    /// After an object's value: whether `stream` follows, and if so where its data starts (the
    /// keyword is followed by CR LF or LF; a lone CR is tolerated).
    mutating func streamDataStart() throws -> Int? {
        let saved = position
        skipWhitespaceAndComments()
        guard position + 6 <= bytes.count else {
            // Too close to the window's end to tell: maybe `endobj`, maybe `stream`.
            if bytes.count - position < 9 { throw truncated() }
            position = saved
            return nil
        }
        guard bytes[position..<position + 6].elementsEqual("stream".utf8) else {
            position = saved
            return nil
        }
        position += 6
        guard position < bytes.count else { throw truncated() }
        if bytes[position] == 0x0D {
            position += 1
            guard position < bytes.count else { throw truncated() }
            if bytes[position] == 0x0A { position += 1 }
        } else if bytes[position] == 0x0A {
            position += 1
        } else if bytes[position] == 0x20 {
            // `stream \n`: a producer's slip, read as most readers do.
            while position < bytes.count, bytes[position] == 0x20 { position += 1 }
            if position < bytes.count, bytes[position] == 0x0D { position += 1 }
            if position < bytes.count, bytes[position] == 0x0A { position += 1 }
        }
        return base + position
    }
}
