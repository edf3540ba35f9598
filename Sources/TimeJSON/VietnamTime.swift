#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Wall-clock time in Vietnam (+07:00 all year, no daylight saving since 1975) by arithmetic on the
/// Unix time, not through Foundation's `DateFormatter` or `Calendar`: on Linux both go through ICU,
/// and a `DateFormatter` made or reconfigured per call rebuilds ICU's formatter each time — half of
/// the console's CPU on a page of 50 documents (docs/PERFORMANCE.md, "The console's pages"). The
/// civil-date conversion is Howard Hinnant's `civil_from_days`/`days_from_civil` (proleptic
/// Gregorian calendar, exact for every year a document can carry).
package struct VietnamTime: Equatable, Sendable {
    package static let offsetSeconds = 7 * 3600

    package var year: Int, month: Int, day: Int
    package var hour: Int, minute: Int, second: Int, millisecond: Int

    package init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, millisecond: Int = 0) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second, self.millisecond) = (hour, minute, second, millisecond)
    }

    /// The time in Vietnam at `date`.
    package init(_ date: Date) {
        let local = date.timeIntervalSince1970 + Double(Self.offsetSeconds)
        let whole = local.rounded(.down)
        let seconds = Int(whole)
        let (days, inDay) = Self.floorDivision(seconds, 86_400)
        (year, month, day) = Self.civil(fromDays: days)
        (hour, minute, second) = (inDay / 3600, inDay % 3600 / 60, inDay % 60)
        millisecond = min(Int(((local - whole) * 1000).rounded(.down)), 999)
    }

    /// The instant this wall-clock time names in Vietnam.
    package var date: Date {
        let days = Self.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - Self.offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(millisecond) / 1000)
    }

    /// The start of the day written `yyyy-MM-dd` (an `<input type="date">`), nil when it is not a
    /// real date (`2026-02-30`, `2026-13-01`, other shapes).
    package static func startOfDay(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        return VietnamTime(year: year, month: month, day: day).date
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func floorDivision(_ a: Int, _ b: Int) -> (quotient: Int, remainder: Int) {
        let remainder = ((a % b) + b) % b
        return ((a - remainder) / b, remainder)
    }

    /// Days since 1970-01-01 to (year, month, day).
    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = floorDivision(z, 146_097).quotient
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // March = 0
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// (year, month, day) to days since 1970-01-01.
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = floorDivision(shiftedYear, 400).quotient
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
