import DocumentModel
import Foundation
import XCTest
@testable import GatewayCore

/// Recipients by name (pure): only a whole name matches; anything else is refused with the
/// closest names, because a document sent to the wrong agency is a real harm.
final class UnitAgencyDirectoryTests: XCTestCase {
    let entries = [
        AgencyDirectory.Entry(code: AgencyCode("000.00.00.H41")!, name: "UBND tỉnh Quảng Trị"),
        AgencyDirectory.Entry(code: AgencyCode("000.00.20.H13")!, name: "UBND xã Hòa Tiến"),
        AgencyDirectory.Entry(code: AgencyCode("000.00.20.H14")!, name: "UBND xã Hòa Khương"),
    ]

    struct Fixed: AgencyDirectorySource {
        let entries: [AgencyDirectory.Entry]
        func directoryEntries() throws -> [AgencyDirectory.Entry] { entries }
    }

    func testOnlyTheWholeNameMatches() {
        XCTAssertEqual(AgencyDirectory.resolve("UBND tỉnh Quảng Trị", in: entries), .found(AgencyCode("000.00.00.H41")!))
        XCTAssertEqual(AgencyDirectory.resolve("  ubnd   TỈNH quảng trị ", in: entries), .found(AgencyCode("000.00.00.H41")!))
        // The same name typed with combining accents (as some keyboards send it).
        XCTAssertEqual(AgencyDirectory.resolve("UBND xã Hòa Tie\u{0302}\u{0301}n", in: entries), .found(AgencyCode("000.00.20.H13")!))
        XCTAssertEqual(AgencyDirectory.resolve("UBND xã Hòa", in: entries), .unknown(suggestions: [entries[2], entries[1], entries[0]]),
                       "a part of a name is not enough, even when it is in only some names")
        XCTAssertEqual(AgencyDirectory.resolve("Sở Y tế", in: entries), .unknown(suggestions: []))
        let twice = entries + [AgencyDirectory.Entry(code: AgencyCode("000.00.20.H99")!, name: "UBND xã Hòa Tiến")]
        XCTAssertEqual(AgencyDirectory.resolve("UBND xã Hòa Tiến", in: twice), .ambiguous([entries[1], twice[3]]))
    }

    func testTheParserTakesNamesAndCodes() throws {
        let parser = MetadataParser(directory: Fixed(entries: entries))
        let parsed = try parser.parse(Array(#"{"recipients": ["UBND xã Hòa Khương", "000.00.00.H41", "ubnd xã hòa khương"]}"#.utf8))
        XCTAssertEqual(parsed.metadata.recipients.map(\.rawValue), ["000.00.20.H14", "000.00.00.H41"], "the same agency once")
        XCTAssertThrowsError(try parser.parse(Array(#"{"recipients": ["UBND tỉnh Quảng"]}"#.utf8))) { error in
            let refusal = error as? IntakeError
            XCTAssertEqual(refusal?.code, .unknownAgencyName)
            XCTAssertEqual(refusal?.field, "recipients[0]")
            XCTAssertTrue(refusal?.messageVi.contains("Có phải: UBND tỉnh Quảng Trị (000.00.00.H41)") == true, refusal?.messageVi ?? "")
            XCTAssertTrue(refusal?.messageEn.contains("Did you mean: UBND tỉnh Quảng Trị (000.00.00.H41)") == true, refusal?.messageEn ?? "")
        }
        XCTAssertThrowsError(try parser.parse(Array(#"{"recipients": ["000.00.20.H1"]}"#.utf8)), "a mistyped code stays a code error") { error in
            XCTAssertEqual((error as? IntakeError)?.code, .invalidAgencyCode)
        }
        XCTAssertThrowsError(try MetadataParser().parse(Array(#"{"recipients": ["UBND tỉnh Quảng Trị"]}"#.utf8)), "no directory: codes only") { error in
            XCTAssertEqual((error as? IntakeError)?.code, .invalidAgencyCode)
        }
    }
}
