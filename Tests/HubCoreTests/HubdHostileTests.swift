import EdXML
import Foundation
import TestSupport
import XCTest

/// Issue 16 ("A hostile world"), the hub's side, with the real hubd and curl: a package whose
/// fields break the rules is refused at submission (not noted and passed on to a box that cannot
/// answer it), a box refuses what it can never take and the sender hears it as a status 02, and
/// a status is taken only from an agency the document was delivered to.
final class HubdHostileTests: XCTestCase, HubClientTesting {
    var hub: RunningHub!

    override func setUp() async throws { hub = try await startHub() }

    override func tearDown() async throws { hub?.stop() }

    func items(_ body: String) throws -> [[String: Any]] {
        try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["items"] as? [[String: Any]], body)
    }

    /// A status about `key` (a document from `sender`), written by the EdXML module.
    func status(_ code: StatusCode, from: String, about key: String, sender: String, name: String) async throws -> String {
        let status = StatusPackage(from: Organization(organId: from), responseFor: ResponseFor(organId: sender, documentId: key),
                                   statusCode: code, description: "Từ chối: sai thẩm quyền", timestamp: EdXMLTimestamp(Date()).description)
        let path = files + "/\(name).edxml"
        try await PackageWriter.write(status, to: path)
        return path
    }

    /// The issue's 1 KB document dated `2026/13/45`: hubd used to store and route it (its bad
    /// fields only noted); the receiving box then stored it, could not build its 01 and retried
    /// that before every poll. Now it is refused at submission and nothing is stored or routed.
    func testADocumentDatedOnADayThatDoesNotExistIsRefusedAtSubmission() async throws {
        let (good, _) = try await makePackage("dated", to: [RunningHub.neighbour])
        // The writer refuses such a date; a hostile box writes the XML itself.
        let bad = files + "/bad-date.edxml"
        let text = try String(contentsOfFile: good, encoding: .utf8)
        XCTAssertTrue(text.contains("2026/11/21"))
        try text.replacingOccurrences(of: "2026/11/21", with: "2026/13/45").write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertLessThan(try Data(contentsOf: URL(fileURLWithPath: bad)).count, 4096)

        let refused = hub.curl(["--data-binary", "@\(bad)", "-X", "POST", "/v1/packages"])
        XCTAssertEqual(refused.http, 422, refused.body)
        XCTAssertEqual(errorCode(refused.body), "invalid_fields")
        XCTAssertTrue(refused.body.contains("2026/13/45"), refused.body)
        XCTAssertEqual(hub.storedPackages(), 0)
        XCTAssertTrue(hub.curl(["/v1/inbox"], as: "neighbour").body.contains(#""items":[]"#))
        // The office's packages go through the same rule.
        let office = hub.curl(["--data-binary", "@\(bad)", "-X", "POST", "/office/v1/packages"], as: "office")
        XCTAssertEqual(errorCode(office.body), "invalid_fields", office.body)
    }

    /// A box refuses an item it can never take: the item leaves its inbox, the delivery says
    /// `refused` with the reason, and the sender's box finds a status 02 from that commune with
    /// the reason in its inbox. The listing announces the hub's size limit; `after` skips what a
    /// box has set aside.
    func testARefusedItemGoesBackToItsSenderAsAStatus02() async throws {
        let (package, key) = try await makePackage("refused", to: [RunningHub.neighbour])
        XCTAssertEqual(hub.curl(["--data-binary", "@\(package)", "-X", "POST", "/v1/packages"]).http, 201)
        let listing = hub.curl(["/v1/inbox"], as: "neighbour")
        XCTAssertEqual(hub.header("Hub-Max-Package-Bytes", in: listing.headers), String(1 << 30))
        let item = try XCTUnwrap(try items(listing.body).first?["id"] as? Int)
        XCTAssertTrue(hub.curl(["/v1/inbox?after=\(item)"], as: "neighbour").body.contains(#""items":[]"#))
        // Only the protocol's reasons; nobody but the commune it waits for can refuse it.
        let unknown = #"{"code":"because","message_vi":"x","message_en":"x"}"#
        XCTAssertEqual(hub.curl(["-X", "POST", "-H", "Content-Type: application/json", "--data", unknown, "/v1/inbox/\(item)/refuse"], as: "neighbour").http, 400)
        let reason = #"{"code":"too_large","message_vi":"Gói tin lớn hơn giới hạn của hộp","message_en":"The package is larger than the box accepts"}"#
        XCTAssertEqual(hub.curl(["-X", "POST", "-H", "Content-Type: application/json", "--data", reason, "/v1/inbox/\(item)/refuse"], as: "third").http, 404)
        XCTAssertEqual(hub.curl(["-X", "POST", "-H", "Content-Type: application/json", "--data", reason, "/v1/inbox/\(item)/refuse"], as: "neighbour").http, 204)
        XCTAssertEqual(hub.curl(["-X", "POST", "-H", "Content-Type: application/json", "--data", reason, "/v1/inbox/\(item)/refuse"], as: "neighbour").http, 204,
                       "a repeated refusal is harmless")
        XCTAssertTrue(hub.curl(["/v1/inbox"], as: "neighbour").body.contains(#""items":[]"#))

        let back = try items(hub.curl(["/v1/inbox"]).body)
        XCTAssertEqual(back.count, 1, "one status, however often the refusal was repeated")
        XCTAssertEqual(back.first?["kind"] as? String, "status")
        XCTAssertEqual(back.first?["from"] as? String, RunningHub.neighbour)
        let id = try XCTUnwrap(back.first?["id"] as? Int)
        XCTAssertEqual(hub.curl(["/v1/inbox/\(id)"], output: files + "/refusal.edxml").http, 200)
        guard case .status(let status) = try await PackageReader.read(path: files + "/refusal.edxml").package else { return XCTFail("not a status") }
        XCTAssertEqual(status.statusCode, .refused)
        XCTAssertEqual(status.from.organId, RunningHub.neighbour)
        XCTAssertEqual(status.from.organName, "UBND xã Hòa Lợi", "the hub's directory names the refusing commune")
        XCTAssertEqual(status.responseFor.documentId, key)
        XCTAssertEqual(status.description, "Gói tin lớn hơn giới hạn của hộp / The package is larger than the box accepts")
    }

    /// The issue's forgery: box A's "02 refused" about a document the hub delivered to box B (or
    /// not yet to anyone) is refused; B's own status, once B has it, is taken.
    func testAStatusIsTakenOnlyFromAnAgencyTheDocumentWasDeliveredTo() async throws {
        let (package, key) = try await makePackage("answered", to: [RunningHub.neighbour])
        XCTAssertEqual(hub.curl(["--data-binary", "@\(package)", "-X", "POST", "/v1/packages"]).http, 201)

        let forged = try await status(.refused, from: RunningHub.third, about: key, sender: RunningHub.commune, name: "forged")
        let refused = hub.curl(["--data-binary", "@\(forged)", "-X", "POST", "/v1/packages"], as: "third")
        XCTAssertEqual(refused.http, 403, refused.body)
        XCTAssertEqual(errorCode(refused.body), "not_a_recipient")
        let early = try await status(.refused, from: RunningHub.neighbour, about: key, sender: RunningHub.commune, name: "early")
        XCTAssertEqual(errorCode(hub.curl(["--data-binary", "@\(early)", "-X", "POST", "/v1/packages"], as: "neighbour").body), "not_a_recipient",
                       "not delivered yet")
        XCTAssertTrue(hub.curl(["/v1/inbox"]).body.contains(#""items":[]"#), "nothing reached the sender")

        let item = try XCTUnwrap(try items(hub.curl(["/v1/inbox"], as: "neighbour").body).first?["id"] as? Int)
        XCTAssertEqual(hub.curl(["-X", "POST", "/v1/inbox/\(item)/ack"], as: "neighbour").http, 204)
        let genuine = try await status(.refused, from: RunningHub.neighbour, about: key, sender: RunningHub.commune, name: "genuine")
        XCTAssertEqual(hub.curl(["--data-binary", "@\(genuine)", "-X", "POST", "/v1/packages"], as: "neighbour").http, 201)
        XCTAssertEqual(try items(hub.curl(["/v1/inbox"]).body).first?["from"] as? String, RunningHub.neighbour)
        // Still refused for the third commune, now that the document was delivered to another.
        XCTAssertEqual(errorCode(hub.curl(["--data-binary", "@\(forged)", "-X", "POST", "/v1/packages"], as: "third").body), "not_a_recipient")
    }
}
