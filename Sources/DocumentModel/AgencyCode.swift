/// Agency identifier (mã định danh) of the national document exchange: `DDD.DD.DD.XNN`.
///
/// Decision 20/2020/QĐ-TTg and QCVN 102:2016 give it 13 characters: three digits, a dot, two
/// digits, a dot, two digits, a dot, one upper-case letter and two digits (e.g. `000.00.20.H13`).
/// We validate the shape only; whether the agency exists is the directory's business.
package struct AgencyCode: Hashable, Sendable, Codable, CustomStringConvertible {
    package let rawValue: String

    package init?(_ text: String) {
        guard Self.isValid(text) else { return nil }
        self.rawValue = text
    }

    package var description: String { rawValue }

    package static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 13 else { return false }
        for (index, byte) in bytes.enumerated() {
            switch index {
            case 3, 6, 9: if byte != UInt8(ascii: ".") { return false }
            case 10: if !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) { return false }
            default: if !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { return false }
            }
        }
        return true
    }

    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let code = AgencyCode(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an agency code: \(text)"))
        }
        self = code
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
