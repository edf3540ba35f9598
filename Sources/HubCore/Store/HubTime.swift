import DocumentModel
import Foundation
import TimeJSON

/// Times: UTC in the database, ISO 8601 with +07:00 on the wire and in receipts (Vietnam has one
/// zone and no daylight saving), whatever the hub's own time zone.
package enum HubTime {
    package static func storage(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    package static func wire(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = GatewayJSON.vietnamTime
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func display(_ stored: String) -> String {
        guard let date = date(stored: stored) else { return stored }
        return wire(date)
    }

    /// A time as `storage` wrote it.
    static func date(stored: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: stored)
    }
}
