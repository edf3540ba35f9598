import Foundation

/// JSON as the local API writes and reads it: snake_case keys (declared on each type), times in
/// ISO 8601 with Vietnam's offset (+07:00, no daylight saving), sorted keys for stable output.
package enum GatewayJSON {
    /// Vietnam's one time zone (+07:00, no daylight saving): the one definition in the project.
    package static let vietnamTime = TimeZone(secondsFromGMT: 7 * 3600)!

    /// `2026-11-21T09:15:02.123+07:00`.
    package static func format(_ date: Date) -> String {
        let t = VietnamTime(date)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03d+07:00", t.year, t.month, t.day, t.hour, t.minute, t.second, t.millisecond)
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
