import Foundation
@testable import HubCore
import XCTest

/// The enrolment token's text and the `[enrolment]` configuration, without a running hub.
final class UnitEnrolmentTests: XCTestCase {
    func testATokenReadsBackFromItsTextInAnyCaseWithMisreadLettersAndWithoutDashes() throws {
        for _ in 0..<100 {
            let token = EnrolmentToken.random()
            XCTAssertEqual(token.text.filter { $0 != "-" }.count, 26)
            XCTAssertEqual(EnrolmentToken(text: token.text), token)
            XCTAssertEqual(EnrolmentToken(text: token.text.lowercased().replacingOccurrences(of: "-", with: " ")), token)
            XCTAssertEqual(EnrolmentToken(text: token.text.replacingOccurrences(of: "0", with: "O").replacingOccurrences(of: "1", with: "l")), token)
        }
        // A known vector: all zero bits, and all one bits (the last symbol's two padding bits zero).
        XCTAssertEqual(EnrolmentToken(bytes: Array(repeating: 0, count: 16)).text, "00-0000-0000-0000-0000-0000-0000")
        XCTAssertEqual(EnrolmentToken(bytes: Array(repeating: 0xFF, count: 16)).text, "ZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZW")
        let text = EnrolmentToken.random().text
        XCTAssertNil(EnrolmentToken(text: String(text.dropLast())), "one symbol short")
        XCTAssertNil(EnrolmentToken(text: text + "0"), "one symbol more")
        XCTAssertNil(EnrolmentToken(text: "U" + text.dropFirst()), "U is not a symbol")
        XCTAssertNil(EnrolmentToken(text: "ZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"), "padding bits set")
        XCTAssertTrue(EnrolmentToken.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(EnrolmentToken.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(EnrolmentToken.constantTimeEqual([1, 2, 3], [1, 2]))
    }

    func testHTTPBasicCredentialsAreTheAgencyCodeAndTheToken() {
        let token = EnrolmentToken.random()
        let header = "Basic " + Data("000.00.20.H13:\(token.text)".utf8).base64EncodedString()
        XCTAssertEqual(HubServer.basicCredentials(header)?.agency, "000.00.20.H13")
        XCTAssertEqual(HubServer.basicCredentials(header)?.token, token)
        XCTAssertNil(HubServer.basicCredentials(nil))
        XCTAssertNil(HubServer.basicCredentials("Bearer x"))
        XCTAssertNil(HubServer.basicCredentials("Basic " + Data("000.00.20.H13:not-a-token".utf8).base64EncodedString()))
    }

    func testTheEnrolmentSectionNeedsTheHubsCAAndALifetimeOfAMinuteAtLeast() throws {
        let base = "[hub]\ncode = \"000.00.00.H41\"\nname = \"UBND tỉnh\"\n"
        let ca = "[ca]\ncertificate_file = \"/ca.pem\"\nkey_file = \"/ca.key\"\n"
        let configuration = try HubConfiguration.parse(base + ca + "[enrolment]\nlisten = \"127.0.0.1:8445\"\ncertificate_lifetime = \"30d\"\n")
        XCTAssertEqual(configuration.enrolmentHost, "127.0.0.1")
        XCTAssertEqual(configuration.enrolmentPort, 8445)
        XCTAssertEqual(configuration.certificateLifetime, .seconds(30 * 86400))
        XCTAssertEqual(try HubConfiguration.parse(base).certificateLifetime, .seconds(365 * 86400))
        XCTAssertNil(try HubConfiguration.parse(base).enrolmentPort, "no enrolment listener unless configured")
        XCTAssertThrowsError(try HubConfiguration.parse(base + "[enrolment]\nlisten = \"0.0.0.0:8444\"\n")) { error in
            XCTAssertTrue("\(error)".contains("[ca]"), "\(error)")
        }
        XCTAssertThrowsError(try HubConfiguration.parse(base + ca + "[enrolment]\ncertificate_lifetime = \"30s\"\n"))
        XCTAssertEqual(try HubConfiguration.parse(base + ca + "[enrolment]\ncertificate_lifetime = \"2m\"\n").certificateLifetime, .seconds(120))
        XCTAssertThrowsError(try HubConfiguration.parse(base + ca + "[enrolment]\nlifetime = \"5d\"\n"), "unknown key")
    }

    func testATokenIsSpentOnceEvenByTwoRequestsAtOnceAndAnotherAgencysIsToldApartInTheLogOnly() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("enrolment-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let records = try EnrolmentRecords(dataDirectory: directory)
        let now = Date()
        let made = try records.createTokens(for: [("000.00.20.H13", nil), ("000.00.20.H14", nil)], expiresAt: now.addingTimeInterval(3600), now: now)
        let (id, token) = (made[0].id, made[0].token)
        XCTAssertEqual(try records.open(agency: "000.00.20.H13", token: token, now: now), .success(id))
        XCTAssertEqual(try records.open(agency: "000.00.20.H14", token: token, now: now), .failure(.anotherAgency))
        XCTAssertEqual(try records.open(agency: "000.00.20.H13", token: .random(), now: now), .failure(.unknown))
        XCTAssertEqual(try records.open(agency: "000.00.20.H13", token: token, now: now.addingTimeInterval(3601)), .failure(.expired))
        // Two requests that both opened the token: the first records its certificate, the second nothing.
        let issued = { (serial: String) in
            EnrolmentRecords.Issued(serial: serial, agency: "000.00.20.H13", notAfter: now.addingTimeInterval(600), renewedFrom: nil, csr: [1], certificate: [2])
        }
        XCTAssertTrue(try records.recordEnrolment(tokenID: id, issued: issued("01"), now: now))
        XCTAssertFalse(try records.recordEnrolment(tokenID: id, issued: issued("02"), now: now))
        XCTAssertEqual(try records.issued(agency: "000.00.20.H13").map(\.serial), ["01"])
        XCTAssertEqual(try records.open(agency: "000.00.20.H13", token: token, now: now), .failure(.used))
        XCTAssertEqual(try records.revokeTokens(id: made[1].id, now: now), 1)
        XCTAssertEqual(try records.open(agency: "000.00.20.H14", token: made[1].token, now: now), .failure(.revoked))
        XCTAssertEqual(try records.tokens(now: now).map(\.state), [.used, .revoked])
    }
}
