#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// JSON as the local API writes and reads it: snake_case keys (declared on each type), times in
/// ISO 8601 with Vietnam's offset (+07:00, no daylight saving), sorted keys for stable output.
package enum GatewayJSON {
    /// Vietnam's one time zone (+07:00, no daylight saving): the one definition in the project.
    package static let vietnamTime = TimeZone(secondsFromGMT: 7 * 3600)!

    /// `2026-11-21T09:15:02.123+07:00`.
    package static func format(_ date: Date) -> String {
        let t = VietnamTime(date)
        return "\(digits(t.year, 4))-\(digits(t.month, 2))-\(digits(t.day, 2))T\(digits(t.hour, 2)):\(digits(t.minute, 2)):"
            + "\(digits(t.second, 2)).\(digits(t.millisecond, 3))+07:00"
    }

    /// `String(format: "%0*d")` without Foundation's `String(format:)` (this module links no
    /// Foundation, for gateway-token): at least `width` digits, zeros in front, a sign first.
    private static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value.magnitude)
        let padded = String(repeating: "0", count: max(0, width - (value < 0 ? 1 : 0) - text.count)) + text
        return value < 0 ? "-" + padded : padded
    }

    package static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(format(date))
        }
        return encoder
    }

    package static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad time \(text)"))
        }
        return decoder
    }
}
