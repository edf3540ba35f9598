/// A key named by an RFC 7512 `pkcs11:` URI (`pkcs11:token=Nguyen%20Van%20An;id=%01`), beside
/// today's `token:9c` for PIV. Path attributes say which token and object; query attributes
/// (`?module-path=…`) which module. A PIN is never taken from a URI: `pin-value` and `pin-source`
/// are refused, since a URI ends up in command lines, logs and configuration files.
/// An unknown path attribute is refused rather than ignored: a key named by something we cannot
/// match must not silently match another key on the same token.
package struct PKCS11URI: Sendable, Equatable, CustomStringConvertible {
    package var token: String?
    package var manufacturer: String?
    package var model: String?
    package var serial: String?
    package var object: String?
    /// CKA_ID: bytes, percent-encoded in the URI.
    package var id: [UInt8]?
    /// `cert`, `private`, `public`, `secret-key`, `data`.
    package var type: String?
    package var slotID: UInt?
    package var modulePath: String?
    package var moduleName: String?

    package enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case notPKCS11URI
        case badPercentEncoding(String)
        case unknownAttribute(String)
        case duplicateAttribute(String)
        case pinInURI
        case badValue(attribute: String, value: String)

        package var description: String {
            switch self {
            case .notPKCS11URI: "Không phải URI pkcs11: / not a pkcs11: URI"
            case .badPercentEncoding(let text): "Mã hóa %XX sai trong URI / bad percent-encoding in the URI: \(text)"
            case .unknownAttribute(let name): "Thuộc tính URI không được hỗ trợ / unsupported URI attribute: \(name)"
            case .duplicateAttribute(let name): "Thuộc tính URI lặp lại / URI attribute given twice: \(name)"
            case .pinInURI:
                "Không nhận mã PIN trong URI (pin-value, pin-source); PIN được hỏi khi ký. / A PIN is never taken from a URI (pin-value, pin-source); it is asked for when signing."
            case .badValue(let attribute, let value): "Giá trị sai cho \(attribute) / bad value for \(attribute): \(value)"
            }
        }
    }

    package init(token: String? = nil, id: [UInt8]? = nil) {
        self.token = token
        self.id = id
    }

    package init(_ text: String) throws(ParseError) {
        guard text.lowercased().hasPrefix("pkcs11:") else { throw .notPKCS11URI }
        let rest = text.dropFirst("pkcs11:".count)
        let parts = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts[0]
        let query = parts.count > 1 ? parts[1] : ""
        var seen: [String] = []  // an array, not a Set: a Set's first use scans every conformance (gateway-token's start)
        func pairs(_ text: Substring, separator: Character) throws(ParseError) -> [(String, [UInt8])] {
            var result: [(String, [UInt8])] = []
            for item in text.split(separator: separator) {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(pair[0]).lowercased()
                guard pair.count == 2 else { throw .badValue(attribute: name, value: "") }
                guard !seen.contains(name) else { throw .duplicateAttribute(name) }
                seen.append(name)
                result.append((name, try Self.percentDecoded(pair[1])))
            }
            return result
        }
        // The query first: a PIN there is refused whatever else the URI says.
        for (name, value) in try pairs(query, separator: "&") {
            switch name {
            case "pin-value", "pin-source": throw .pinInURI
            case "module-path": modulePath = try Self.utf8(value, name)
            case "module-name": moduleName = try Self.utf8(value, name)
            default: break  // RFC 7512 §2.3: other query attributes (vendor `x-…`) do not name the object
            }
        }
        for (name, value) in try pairs(path, separator: ";") {
            switch name {
            case "token": token = try Self.utf8(value, name)
            case "manufacturer": manufacturer = try Self.utf8(value, name)
            case "model": model = try Self.utf8(value, name)
            case "serial": serial = try Self.utf8(value, name)
            case "object": object = try Self.utf8(value, name)
            case "id": id = value
            case "type":
                let text = try Self.utf8(value, name)
                guard ["cert", "private", "public", "secret-key", "data"].contains(text) else { throw .badValue(attribute: name, value: text) }
                type = text
            case "slot-id":
                let text = try Self.utf8(value, name)
                guard let number = UInt(text) else { throw .badValue(attribute: name, value: text) }
                slotID = number
            case "pin-value", "pin-source": throw .pinInURI
            default: throw .unknownAttribute(name)
            }
        }
    }

    /// RFC 3986 percent-decoding; every other byte is taken as it is.
    static func percentDecoded(_ text: Substring) throws(ParseError) -> [UInt8] {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard utf8.count >= 2, let high = hexValue(utf8.popFirst()!), let low = hexValue(utf8.popFirst()!) else {
                throw .badPercentEncoding(String(text))
            }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func utf8(_ bytes: [UInt8], _ name: String) throws(ParseError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .badValue(attribute: name, value: "(not UTF-8)") }
        return text
    }

    /// Whether the token answers the URI's token attributes (absent ones match anything).
    package func matches(_ token: PKCS11Module.TokenInfo) -> Bool {
        (self.token == nil || self.token == token.label) && (manufacturer == nil || manufacturer == token.manufacturer)
            && (model == nil || model == token.model) && (serial == nil || serial == token.serial)
    }

    /// The URI again, every value percent-encoded but for RFC 7512's unreserved characters.
    package var description: String {
        var path: [String] = []
        func add(_ name: String, _ bytes: [UInt8]?) { if let bytes { path.append("\(name)=\(Self.percentEncoded(bytes))") } }
        add("token", token.map { Array($0.utf8) })
        add("manufacturer", manufacturer.map { Array($0.utf8) })
        add("model", model.map { Array($0.utf8) })
        add("serial", serial.map { Array($0.utf8) })
        add("object", object.map { Array($0.utf8) })
        add("id", id)
        add("type", type.map { Array($0.utf8) })
        add("slot-id", slotID.map { Array(String($0).utf8) })
        var query: [String] = []
        if let modulePath { query.append("module-path=\(Self.percentEncoded(Array(modulePath.utf8)))") }
        if let moduleName { query.append("module-name=\(Self.percentEncoded(Array(moduleName.utf8)))") }
        return "pkcs11:" + path.joined(separator: ";") + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    private static func percentEncoded(_ bytes: [UInt8]) -> String {
        var text = ""
        for byte in bytes {
            let unreserved = (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                || [UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~")].contains(byte)
            if unreserved { text.unicodeScalars.append(UnicodeScalar(byte)) } else { text += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true) }
        }
        return text
    }
}
