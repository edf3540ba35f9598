import Foundation
import XCTest

/// Issue 17: hubd signs the box's audit anchor into the receipt (openssl reads it back), and
/// refuses a malformed one, whole or by tus, before storing anything.
extension HubdTests {
    func testTheBoxsAuditAnchorIsSignedIntoTheReceiptAndAMalformedOneRefused() async throws {
        let (package, _) = try await makePackage("anchored")
        let anchor = "7:" + String(repeating: "0123456789abcdef", count: 4)
        for bad in ["07:" + anchor.dropFirst(2), "7:" + anchor.dropFirst(2).uppercased(), "7", anchor + "0"] {
            let refused = hub.curl(["--data-binary", "@\(package)", "-H", "Hub-Audit-Head: \(bad)", "-X", "POST", "/v1/packages"])
            XCTAssertEqual(refused.http, 400, bad)
            XCTAssertEqual(errorCode(refused.body), "bad_request", refused.body)
        }
        let tus = hub.curl(["-X", "POST", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Length: 100",
                            "-H", "Upload-Metadata: audit_head " + Data("1:zz".utf8).base64EncodedString(), "/v1/uploads"])
        XCTAssertEqual(tus.http, 400, tus.body)
        XCTAssertEqual(hub.storedPackages(), 0)

        let stored = hub.curl(["--data-binary", "@\(package)", "-H", "Hub-Audit-Head: \(anchor)", "-X", "POST", "/v1/packages"],
                              output: files + "/anchored.p7s")
        XCTAssertEqual(stored.http, 201, stored.err)
        let (status, content) = verifyReceipt(files + "/anchored.p7s")
        XCTAssertEqual(status, 0)
        let signed = try XCTUnwrap(content["audit_head"] as? [String: Any], "\(content)")
        XCTAssertEqual((signed["entry"] as? NSNumber)?.int64Value, 7)
        XCTAssertEqual(signed["sha256"] as? String, String(anchor.dropFirst(2)))
    }
}
