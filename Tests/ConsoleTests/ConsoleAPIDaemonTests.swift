// The console's /api/v1 against the real `gatewayd serve` (docs/api.md): `gatewayd api-key add`
// beside the running daemon prints a key once, curl submits a PDF with it over HTTPS, `gatewayd show`
// finds the document; once revoked, the key is refused.
import Foundation
import TestSupport
import XCTest

extension ConsoleDaemonTests {
    func testAKeyFromTheCommandLineSubmitsAPDFWithCurlUntilItIsRevoked() throws {
        let made = gatewayd(["api-key", "add", "qlvb"])
        XCTAssertEqual(made.status, 0, made.err)
        let key = made.out.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(key.count, 43, made.out)
        XCTAssertTrue(made.err.contains("Shown once"), made.err)
        try Data(SamplePDF.bytes("Cong van 7")).write(to: URL(fileURLWithPath: directory + "/cong-van.pdf"))
        let metadata = Data(#"{"file_name": "cong-van.pdf", "recipients": ["000.00.00.H01"], "subject": "Công văn số 7"}"#.utf8)
            .base64EncodedString()
        func submit() -> (code: String, body: String) {
            let answer = runProgram("/usr/bin/curl", ["-sS", "--cacert", data + "/console/ca.pem", "-o", directory + "/answer", "-w", "%{http_code}",
                                                      "-H", "Authorization: Bearer \(key)", "-H", "X-Gateway-Metadata: \(metadata)",
                                                      "-H", "Content-Type: application/pdf", "--data-binary", "@\(directory)/cong-van.pdf",
                                                      "https://localhost:\(port)/api/v1/documents"])
            return (answer.out, ((try? String(contentsOfFile: directory + "/answer", encoding: .utf8)) ?? "") + answer.err)
        }
        let submitted = submit()
        XCTAssertEqual(submitted.code, "201", "\(submitted.body)\n\(logText)")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(submitted.body.utf8)) as? [String: Any], submitted.body)
        let id = try XCTUnwrap(object["id"] as? String)
        let shown = gatewayd(["show", id])
        XCTAssertEqual(shown.status, 0, shown.err)
        XCTAssertTrue(shown.out.contains("Công văn số 7"), shown.out)

        let listed = gatewayd(["api-key", "list", "--json"])
        XCTAssertTrue(listed.out.contains("\"qlvb\"") && !listed.out.contains(key), listed.out)
        XCTAssertEqual(gatewayd(["api-key", "revoke", "qlvb"]).status, 0)
        let refused = submit()
        XCTAssertEqual(refused.code, "401", refused.body)
        XCTAssertTrue(refused.body.contains("\"unauthorized\""), refused.body)
        XCTAssertFalse(logText.contains(key), "the key is never logged")
    }
}
