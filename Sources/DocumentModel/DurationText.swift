import Foundation

/// Durations as configuration files write them: "500ms", "30s", "5m", "2h", "7d" — shared by
/// gatewayd's configuration and hubd's (enrolment token and certificate lifetimes).
package enum DurationText {
    package static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let number = trimmed.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number), value >= 0 else { return nil }
        switch trimmed.dropFirst(number.count).trimmingCharacters(in: .whitespaces) {
        case "ms": return .milliseconds(Int64(value))
        case "s", "": return .milliseconds(Int64(value * 1000))
        case "m", "min": return .seconds(Int64(value * 60))
        case "h": return .seconds(Int64(value * 3600))
        case "d": return .seconds(Int64(value * 86400))
        default: return nil
        }
    }
}
