import DocumentModel
import Foundation
import TimeJSON
import XCTest

/// VietnamTime's arithmetic against Foundation's calendar in +07:00, the slow way it replaced.
final class UnitVietnamTimeTests: XCTestCase {
    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = GatewayJSON.vietnamTime
        return calendar
    }

    func testAgreesWithFoundationsCalendarOverTwoHundredYears() {
        var generator = SystemRandomNumberGenerator()
        // 1900-01-01 to 2100-01-01, whole seconds and fractions, plus the edges of days and leap years.
        var instants = (0..<20_000).map { _ in Double.random(in: -2_208_988_800 ... 4_102_444_800, using: &generator) }
        instants += [0, -1, 86_400 - 25_200, 86_400 - 25_201, 951_782_400 - 25_200, 951_868_799.999 - 25_200, 1_709_164_800]
        for seconds in instants {
            let date = Date(timeIntervalSince1970: seconds)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
            let t = VietnamTime(date)
            XCTAssertEqual([t.year, t.month, t.day, t.hour, t.minute, t.second], [c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!], "\(seconds)")
            // Back to the instant, truncated to the millisecond (toward the past, as the fields are).
            let lost = seconds - t.date.timeIntervalSince1970
            XCTAssertTrue(lost > -1e-6 && lost < 0.001 + 1e-6, "\(seconds): \(lost)")
        }
    }

    func testStartOfDayIsMidnightInVietnam() throws {
        let date = try XCTUnwrap(VietnamTime.startOfDay("2024-02-29"))
        XCTAssertEqual(date, calendar.date(from: DateComponents(year: 2024, month: 2, day: 29)))
        XCTAssertEqual(date.timeIntervalSince1970, 1_709_139_600)  // 2024-02-28T17:00:00Z
    }

    func testStartOfDayRefusesWhatIsNotADate() {
        for text in ["2023-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "2026-04-31", "2026-4-01", "26-04-01",
                     "2026-04-01x", "", "２０２６-04-01", "2026/04/01", "+026-04-01"] {
            XCTAssertNil(VietnamTime.startOfDay(text), text)
        }
        XCTAssertNotNil(VietnamTime.startOfDay("2000-02-29"))
        XCTAssertNil(VietnamTime.startOfDay("1900-02-29"))
    }

    func testGatewayJSONWritesVietnamsWallClock() {
        XCTAssertEqual(GatewayJSON.format(Date(timeIntervalSince1970: 1_764_288_000.5)), "2025-11-28T07:00:00.500+07:00")
        // Its zero padding (TimeJSON links no Foundation) against Foundation's String(format:), years 1 to 9999.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let date = Date(timeIntervalSince1970: Double.random(in: -62_135_596_800...253_402_300_799, using: &generator))
            let t = VietnamTime(date)
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03d+07:00", t.year, t.month, t.day, t.hour, t.minute, t.second, t.millisecond)
            XCTAssertEqual(GatewayJSON.format(date), expected)
        }
    }
}
