import SigningPolicy
import XCTest

/// No signature before the clock is synchronised, unless the technician vouches for it.
final class ClockSynchronisationTests: XCTestCase {
    func code(_ synchronised: Bool?, _ tolerance: ClockSynchronisation.Tolerance) -> SigningRefusal.Code? {
        do { try ClockSynchronisation.check(synchronised: synchronised, tolerance: tolerance) } catch { return error.code }
        return nil
    }

    func testTimedatectlsAnswerIsRead() {
        XCTAssertEqual(ClockSynchronisation.parseTimedatectl("yes\n"), true)
        XCTAssertEqual(ClockSynchronisation.parseTimedatectl("no\n"), false)
        XCTAssertNil(ClockSynchronisation.parseTimedatectl("Failed to connect to bus: No such file or directory\n"))
        XCTAssertNil(ClockSynchronisation.parseTimedatectl(""))
    }

    func testAnUnsynchronisedOrUnknownClockRefusesUnlessTrusted() {
        XCTAssertNil(code(true, .requireSynchronised))
        XCTAssertEqual(code(false, .requireSynchronised), .clockNotSynchronised)
        XCTAssertEqual(code(nil, .requireSynchronised), .clockStateUnknown)
        XCTAssertNil(code(false, .trustLocalClock))
        XCTAssertNil(code(nil, .trustLocalClock))
    }
}
