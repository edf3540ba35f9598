import Foundation
import SigningPolicy
import XCTest

/// The register of outgoing documents: from 01 each year in Vietnam time, per notation or one
/// series, a number kept once given and never given twice.
final class OutgoingRegisterTests: XCTestCase {
    /// `2026-01-01T00:00:00+07:00` is `2025-12-31T17:00:00Z`.
    static let newYearVietnam = Date(timeIntervalSince1970: 1_767_200_400)

    func issue(_ register: inout OutgoingRegister, _ notation: String, _ date: Date) throws -> RegisterNumber {
        let (number, next) = try register.next(notation: notation, at: date)
        register = next
        return number
    }

    func testNumbersStartAt01AndFormatWithTwoDigits() throws {
        var register = OutgoingRegister(numbering: .single)
        let date = Date(timeIntervalSince1970: 1_780_279_200)  // 1 June 2026, 09:00 in Vietnam
        let first = try issue(&register, "QĐ-UBND", date)
        XCTAssertEqual(first.year, 2026)
        XCTAssertEqual(first.number, 1)
        XCTAssertEqual(first.formattedNumber, "01")
        XCTAssertEqual(first.reference, "01/QĐ-UBND")
        XCTAssertEqual(first.vietnameseDate, "ngày 01 tháng 6 năm 2026")
        for _ in 2...9 { _ = try issue(&register, "QĐ-UBND", date) }
        XCTAssertEqual(try issue(&register, "QĐ-UBND", date).formattedNumber, "10")
        XCTAssertEqual(RegisterNumber(year: 2026, number: 123, notation: "", date: date).reference, "123")
    }

    /// Decree 30 Appendix I: a 0 before days under 10 and months 1 and 2 only.
    func testTheDateIsWrittenAsDecree30Asks() {
        func written(_ iso: String) -> String {
            RegisterNumber(year: 0, number: 1, notation: "", date: try! Date(iso, strategy: .iso8601)).vietnameseDate
        }
        XCTAssertEqual(written("2026-02-05T03:00:00Z"), "ngày 05 tháng 02 năm 2026")
        XCTAssertEqual(written("2026-11-21T03:00:00Z"), "ngày 21 tháng 11 năm 2026")
        XCTAssertEqual(written("2026-03-09T03:00:00Z"), "ngày 09 tháng 3 năm 2026")
        // 20:00 UTC on 31 December is already New Year's Day in Vietnam.
        XCTAssertEqual(written("2026-12-31T20:00:00Z"), "ngày 01 tháng 01 năm 2027")
    }

    func testANewYearStartsAt01AtMidnightVietnamTimeNotUTC() throws {
        var register = OutgoingRegister(numbering: .single)
        let lastSecond = Self.newYearVietnam.addingTimeInterval(-1)
        XCTAssertEqual(OutgoingRegister.year(of: lastSecond), 2025)
        _ = try issue(&register, "QĐ-UBND", lastSecond.addingTimeInterval(-3600))
        let yearEnd = try issue(&register, "TB-UBND", lastSecond)
        XCTAssertEqual([yearEnd.year, yearEnd.number], [2025, 2])

        let newYear = try issue(&register, "QĐ-UBND", Self.newYearVietnam)
        XCTAssertEqual([newYear.year, newYear.number], [2026, 1])
        XCTAssertEqual(newYear.vietnameseDate, "ngày 01 tháng 01 năm 2026")
        // In UTC it is still 31 December 2025 (17:00): the Vietnamese year counts.
        XCTAssertEqual(Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Self.newYearVietnam).year, 2025)
        XCTAssertEqual(try issue(&register, "QĐ-UBND", Self.newYearVietnam.addingTimeInterval(60)).number, 2)
    }

    func testOneSeriesForAllOrOnePerNotation() throws {
        let date = Self.newYearVietnam.addingTimeInterval(86_400)
        var single = OutgoingRegister(numbering: .single)
        XCTAssertEqual(try ["QĐ-UBND", "TB-UBND", "QĐ-UBND"].map { try issue(&single, $0, date).reference },
                       ["01/QĐ-UBND", "02/TB-UBND", "03/QĐ-UBND"])

        var perNotation = OutgoingRegister(numbering: .perNotation)
        XCTAssertEqual(try ["QĐ-UBND", "TB-UBND", "qđ-ubnd ", "QĐ-UBND"].map { try issue(&perNotation, $0, date).formattedNumber },
                       ["01", "01", "02", "03"])
        XCTAssertEqual(perNotation.last[OutgoingRegister.Series(year: 2026, notation: "QĐ-UBND")]?.number, 3)
        XCTAssertThrowsError(try perNotation.next(notation: " ", at: date)) {
            XCTAssertEqual(($0 as? SigningRefusal)?.code, .missingNotation)
        }
    }

    /// What the store keeps is what `next` is given: a register rebuilt from it continues.
    func testTheRegisterContinuesFromTheStoredLastNumbers() throws {
        let date = Self.newYearVietnam.addingTimeInterval(7 * 86_400)
        let stored = [OutgoingRegister.Series(year: 2026, notation: ""): OutgoingRegister.Entry(number: 41, date: date.addingTimeInterval(-60))]
        let (number, next) = try OutgoingRegister(numbering: .single, last: stored).next(notation: "QĐ-UBND", at: date)
        XCTAssertEqual(number.number, 42)
        XCTAssertEqual(next.last.values.first?.number, 42)
    }

    func testADocumentWithANumberKeepsItAndItIsNotGivenAgain() throws {
        let date = Self.newYearVietnam.addingTimeInterval(86_400)
        var register = OutgoingRegister(numbering: .single)
        _ = try issue(&register, "QĐ-UBND", date)
        let numbered = RegisterNumber(year: 2026, number: 5, notation: "QĐ-UBND", date: date)
        let (kept, after) = try register.next(notation: "QĐ-UBND", at: date.addingTimeInterval(60), existing: numbered)
        XCTAssertEqual(kept, numbered)
        register = after
        XCTAssertEqual(try issue(&register, "TB-UBND", date.addingTimeInterval(120)).number, 6)
        // One already behind the register leaves it as it is.
        let old = RegisterNumber(year: 2026, number: 2, notation: "QĐ-UBND", date: date)
        XCTAssertEqual(try register.next(notation: "", at: date, existing: old).register, register)
    }

    func testNoNumberIsGivenTwice() throws {
        var register = OutgoingRegister(numbering: .perNotation)
        var given = Set<String>()
        var date = Self.newYearVietnam.addingTimeInterval(-10 * 3600)
        for index in 0..<200 {
            date.addTimeInterval(337)  // crosses New Year's midnight in Vietnam on the way
            let number = try issue(&register, ["QĐ-UBND", "TB-UBND", "KH-UBND"][index % 3], date)
            XCTAssertTrue(given.insert("\(number.year) \(number.reference)").inserted, "\(number.reference) given twice")
        }
        XCTAssertEqual(Set(given.map { $0.prefix(4) }), ["2025", "2026"])
    }

    /// A box whose clock went back would number out of the order of the dates.
    func testADateBeforeTheLastNumberIsRefused() throws {
        var register = OutgoingRegister(numbering: .perNotation)
        _ = try issue(&register, "QĐ-UBND", Self.newYearVietnam.addingTimeInterval(3600))
        XCTAssertThrowsError(try register.next(notation: "TB-UBND", at: Self.newYearVietnam.addingTimeInterval(-3600))) {
            XCTAssertEqual(($0 as? SigningRefusal)?.code, .registerClockBehind)
        }
    }
}
