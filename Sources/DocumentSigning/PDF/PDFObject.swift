/// The values of the PDF object model (ISO 32000-1 §7.3). Numbers keep their written form, so a
/// dictionary read from the file and written back into an incremental update says exactly what
/// the original said (no float rounding of a /MediaBox).
package indirect enum PDFObject: Sendable, Equatable {
    case null
    case boolean(Bool)
    case integer(Int)
    /// A real number as written (`0.5`, `-.25`, `612.0`).
    case real(String)
    /// A string's bytes after escapes are resolved; `hex` remembers how it was written.
    case string([UInt8], hex: Bool)
    /// A name without its slash, `#xx` escapes resolved (bytes, since names may be any bytes).
    case name(PDFName)
    case array([PDFObject])
    case dictionary(PDFDictionary)
    case reference(PDFReference)
    /// A stream: its dictionary and where its (still encoded) data lies in the file.
    case stream(PDFStream)

    package var integerValue: Int? { if case .integer(let value) = self { value } else { nil } }
    package var nameValue: PDFName? { if case .name(let value) = self { value } else { nil } }
    package var arrayValue: [PDFObject]? { if case .array(let value) = self { value } else { nil } }
    package var referenceValue: PDFReference? { if case .reference(let value) = self { value } else { nil } }
    package var dictionaryValue: PDFDictionary? {
        switch self {
        case .dictionary(let value): value
        case .stream(let stream): stream.dictionary
        default: nil
        }
    }
    package var stringBytes: [UInt8]? { if case .string(let bytes, _) = self { bytes } else { nil } }
    /// A number (integer or real) as a Double, for geometry.
    package var numberValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .real(let text): Double(text.hasPrefix(".") || text.hasPrefix("-.") ? text.replacingFirstDot() : text)
        default: nil
        }
    }
}

extension String {
    /// `.5` → `0.5`, `-.5` → `-0.5` (Double(String) wants a leading digit).
    fileprivate func replacingFirstDot() -> String {
        hasPrefix("-.") ? "-0" + dropFirst() : "0" + self
    }
}

/// A name object's bytes (`/Type` is `PDFName("Type")`).
package struct PDFName: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    package let bytes: [UInt8]
    package init(bytes: [UInt8]) { self.bytes = bytes }
    package init(_ text: String) { self.bytes = Array(text.utf8) }
    package init(stringLiteral value: String) { self.init(value) }
    package var description: String { "/" + String(decoding: bytes, as: UTF8.self) }
}

/// `12 0 R`.
package struct PDFReference: Hashable, Sendable, CustomStringConvertible {
    package let number: Int
    package let generation: Int
    package init(_ number: Int, _ generation: Int = 0) {
        self.number = number
        self.generation = generation
    }
    package var description: String { "\(number) \(generation) R" }
}

/// A dictionary that keeps its keys in file order, so a rewritten object reads like the original.
package struct PDFDictionary: Sendable, Equatable {
    package private(set) var entries: [(key: PDFName, value: PDFObject)] = []

    package init() {}
    package init(_ entries: [(PDFName, PDFObject)]) {
        for (key, value) in entries { self[key] = value }
    }

    package subscript(key: PDFName) -> PDFObject? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    package var keys: [PDFName] { entries.map(\.key) }
    package var count: Int { entries.count }

    package static func == (left: PDFDictionary, right: PDFDictionary) -> Bool {
        left.entries.count == right.entries.count
            && zip(left.entries, right.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

/// A stream object as read: the dictionary, and the position and length of its raw data in the
/// source (for a stream inside the file) — the data itself is read only when asked for.
package struct PDFStream: Sendable, Equatable {
    package var dictionary: PDFDictionary
    package let dataOffset: Int
    package let dataLength: Int
}
