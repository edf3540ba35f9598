import DocumentModel
import Foundation
import XCTest
@testable import GatewayCore

/// The shape of an agency code (mã định danh): `DDD.DD.DD.XNN`, exactly 13 ASCII characters.
final class UnitAgencyCodeTests: XCTestCase {
    func testValidCodeIsAcceptedAndKeptVerbatim() throws {
        let code = try XCTUnwrap(AgencyCode("000.00.20.H13"))
        XCTAssertEqual(code.rawValue, "000.00.20.H13")
        XCTAssertEqual(code.description, "000.00.20.H13")
        XCTAssertTrue(AgencyCode.isValid("000.00.20.H13"))
        XCTAssertTrue(AgencyCode.isValid("999.99.99.Z99"))
        XCTAssertTrue(AgencyCode.isValid("123.45.67.A00"))
    }

    func testWrongLengthIsRefused() {
        XCTAssertNil(AgencyCode("000.00.20.H1"))      // 12 characters
        XCTAssertNil(AgencyCode("00.00.20.H13"))      // 12 characters, short first group
        XCTAssertNil(AgencyCode("000.00.20.H133"))    // 14 characters
        XCTAssertNil(AgencyCode("0000.00.20.H13"))    // 14 characters, long first group
        XCTAssertNil(AgencyCode(" 000.00.20.H13"))    // 14 characters, leading space
        XCTAssertNil(AgencyCode("000.00.20.H13\n"))   // 14 characters, trailing newline
    }

    func testFourteenCharactersIsRefused() {
        XCTAssertEqual("000.00.20.H134".utf8.count, 14)
        XCTAssertFalse(AgencyCode.isValid("000.00.20.H134"))
    }

    func testEmptyIsRefused() {
        XCTAssertNil(AgencyCode(""))
        XCTAssertFalse(AgencyCode.isValid(""))
    }

    func testLowercaseLetterIsRefused() {
        XCTAssertNil(AgencyCode("000.00.20.h13"))
    }

    func testMissingDotsAreRefused() {
        XCTAssertNil(AgencyCode("000000020H13"))      // no dots at all (12)
        XCTAssertNil(AgencyCode("000-00-20-H13"))     // right length, wrong separators
        XCTAssertNil(AgencyCode("000.00020.H13"))     // one dot missing (12)
        XCTAssertNil(AgencyCode("000.00.20xH13"))     // right length, third dot replaced
        XCTAssertNil(AgencyCode("0000.0.20.H13"))     // dot in the wrong place
    }

    func testLettersInDigitPlacesAreRefused() {
        XCTAssertNil(AgencyCode("A00.00.20.H13"))
        XCTAssertNil(AgencyCode("000.0B.20.H13"))
        XCTAssertNil(AgencyCode("000.00.2C.H13"))
        XCTAssertNil(AgencyCode("000.00.20.HA3"))
        XCTAssertNil(AgencyCode("000.00.20.H1Z"))
        XCTAssertNil(AgencyCode("000.00.20.113"))     // digit where the letter goes
    }

    func testNonASCIILookalikesAreRefused() {
        XCTAssertNil(AgencyCode("000.00.20.Ħ13"))     // letter outside A–Z
        XCTAssertNil(AgencyCode("０00.00.20.H13"))    // full-width digit
        XCTAssertNil(AgencyCode("000.00.20.Ｈ13"))    // full-width letter
    }

    func testCodableRoundTripAndRefusal() throws {
        let code = try XCTUnwrap(AgencyCode("000.00.20.H13"))
        let data = try JSONEncoder().encode([code])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "[\"000.00.20.H13\"]")
        XCTAssertEqual(try JSONDecoder().decode([AgencyCode].self, from: data), [code])
        XCTAssertThrowsError(try JSONDecoder().decode([AgencyCode].self, from: Data("[\"000.00.20.h13\"]".utf8)))
    }
}
