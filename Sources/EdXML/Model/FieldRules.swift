import DocumentModel
import Foundation
import TimeJSON

/// The rules a field's text must follow: length limits, agency codes, dates, small numbers.
///
/// Lengths count characters as a reader sees them (grapheme clusters, after NFC normalisation),
/// so "Đ" counts as one whether it arrived precomposed or as D + combining stroke.
enum FieldRules {
    /// Maximum lengths from Decree 30/2020/NĐ-CP, Appendix VI (the metadata of an electronic
    /// document), for the fields edXML carries.
    static let decreeLimits: [String: Int] = [
        "OrganId": 13,
        "CodeNumber": 11,
        "CodeNotation": 30,
        "Subject": 500,
        "OrganName": 200,
        "TypeName": 100,
        "Position": 100,
        "FullName": 50,
    ]

    /// Our own caps where the decree says nothing: generous, only there so a hostile or broken
    /// producer cannot hand us a megabyte "name".
    static let ownLimit = 1_000
    static let ownLongTextLimit = 20_000
    static let longTextFields: Set<String> = ["Content", "Description", "BussinessDocReason", "Appendix", "Direction"]

    static func limit(for field: String) -> Int {
        decreeLimits[field] ?? (longTextFields.contains(field) ? ownLongTextLimit : ownLimit)
    }

    static func length(_ text: String) -> Int { text.precomposedStringWithCanonicalMapping.count }

    /// Adds a finding when `text` is longer than its field allows.
    static func checkLength(_ text: String?, field: String, path: String, into findings: inout [Finding]) {
        guard let text else { return }
        let limit = limit(for: field)
        let count = length(text)
        if count > limit {
            findings.append(Finding(path: path, problem: "dài \(count) ký tự, tối đa \(limit) / \(count) characters, at most \(limit)"))
        }
    }

    static func checkAgencyCode(_ text: String, path: String, into findings: inout [Finding]) {
        if !AgencyCode.isValid(text) {
            findings.append(Finding(path: path, problem: "mã định danh \"\(text)\" không đúng dạng DDD.DD.DD.XNN / agency code \"\(text)\" is not DDD.DD.DD.XNN"))
        }
    }

    static func checkDate(_ text: String?, path: String, into findings: inout [Finding]) {
        guard let text else { return }
        if EdXMLDate(text) == nil {
            findings.append(Finding(path: path, problem: "ngày \"\(text)\" không đúng dạng yyyy/MM/dd / date \"\(text)\" is not yyyy/MM/dd"))
        }
    }

    static func checkTimestamp(_ text: String?, path: String, into findings: inout [Finding]) {
        guard let text else { return }
        if EdXMLTimestamp(text) == nil {
            findings.append(Finding(path: path, problem: "thời điểm \"\(text)\" không đúng dạng yyyy/MM/dd HH:mm:ss / timestamp \"\(text)\" is not yyyy/MM/dd HH:mm:ss"))
        }
    }
}

/// A calendar date as edXML writes it: `yyyy/MM/dd`.
package struct EdXMLDate: Sendable, Hashable, Codable, CustomStringConvertible {
    package let year: Int, month: Int, day: Int

    package init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...Self.days(inMonth: month, year: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The date of `instant` in Vietnam (UTC+7, no daylight saving), where documents are dated.
    package init(_ instant: Date) {
        let parts = EdXMLTimestamp.vietnamCalendar.dateComponents([.year, .month, .day], from: instant)
        self.year = parts.year!
        self.month = parts.month!
        self.day = parts.day!
    }

    package var description: String {
        String(format: "%04d/%02d/%02d", year, month, day)
    }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    package init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = EdXMLDate(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not yyyy/MM/dd: \(text)"))
        }
        self = date
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An instant as edXML writes it: `yyyy/MM/dd HH:mm:ss`, Vietnam local time.
package struct EdXMLTimestamp: Sendable, Hashable, CustomStringConvertible {
    package let date: EdXMLDate
    package let hour: Int, minute: Int, second: Int

    static let vietnamCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = GatewayJSON.vietnamTime
        return calendar
    }()

    package init?(_ text: String) {
        let halves = text.split(separator: " ", omittingEmptySubsequences: false)
        guard halves.count == 2, let date = EdXMLDate(String(halves[0])) else { return nil }
        let time = halves[1].split(separator: ":", omittingEmptySubsequences: false)
        guard time.count == 3, time.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
              let hour = Int(time[0]), let minute = Int(time[1]), let second = Int(time[2]),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        self.date = date
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    package init(_ instant: Date) {
        let parts = Self.vietnamCalendar.dateComponents([.hour, .minute, .second], from: instant)
        self.date = EdXMLDate(instant)
        self.hour = parts.hour!
        self.minute = parts.minute!
        self.second = parts.second!
    }

    package var description: String {
        date.description + String(format: " %02d:%02d:%02d", hour, minute, second)
    }
}
