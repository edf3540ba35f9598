// The upload form against the real `gatewayd serve` (issue 15): curl posts a PDF with an
// attachment as a browser's multipart form, and `gatewayd queue list` finds the document.
import Foundation
import TestSupport
import XCTest

extension ConsoleDaemonTests {
    func testAnUploadThroughTheFormReachesTheQueue() throws {
        let admin = TestSecrets.value("password.console-admin")
        let status = gatewayd(["status"])
        let codeLine = try XCTUnwrap(status.out.split(separator: "\n").first { $0.contains("setup code") }, status.out)
        let code = try XCTUnwrap(codeLine.split(separator: " ").last.map(String.init))
        let setupToken = try XCTUnwrap(curl("/setup").csrf)
        XCTAssertEqual(curl("/setup", form: ["csrf": setupToken, "code": code, "login": "admin", "display_name": "Quản trị", "password": admin,
                                             "password_again": admin]).location, "/login?done=setup")
        let loginToken = try XCTUnwrap(curl("/login").csrf)
        XCTAssertEqual(curl("/login", form: ["csrf": loginToken, "login": "admin", "password": admin]).location, "/")

        let form = curl("/outbox/new")
        XCTAssertEqual(form.status, 200, form.body)
        let action = try XCTUnwrap(form.body.range(of: "action=\"/outbox/new?csrf=").map { String(form.body[$0.upperBound...].prefix { $0 != "\"" }) })
        try Data(SamplePDF.bytes("To trinh 12")).write(to: URL(fileURLWithPath: directory + "/to-trinh.pdf"))
        try Data(SamplePDF.bytes("Phu luc")).write(to: URL(fileURLWithPath: directory + "/phu-luc.pdf"))
        // curl -F sends multipart/form-data as a browser does, the file parts streamed.
        let arguments = ["-sS", "--cacert", data + "/console/ca.pem", "-c", directory + "/a.jar", "-b", directory + "/a.jar",
                         "-D", directory + "/headers", "-o", "/dev/null", "-w", "%{http_code}",
                         "-F", "subject=Tờ trình số 12 <script>", "-F", "number=12", "-F", "notation=TTr-UBND", "-F", "priority=1",
                         "-F", "recipients=000.00.00.H01", "-F", "signatures=",
                         "-F", "file=@\(directory)/to-trinh.pdf;type=application/pdf", "-F", "attachments=@\(directory)/phu-luc.pdf;type=application/pdf",
                         "https://localhost:\(port)/outbox/new?csrf=\(action)"]
        let posted = runProgram("/usr/bin/curl", arguments)
        let headers = (try? String(contentsOfFile: directory + "/headers", encoding: .utf8)) ?? ""
        XCTAssertEqual(posted.out, "303", "\(posted.err)\n\(headers)\n\(logText)")
        let location = try XCTUnwrap(headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location:") }, headers)
        let id = String(location.split(separator: "/").last?.prefix { $0 != "?" } ?? "")

        let queue = gatewayd(["queue", "list", "--json"])
        XCTAssertEqual(queue.status, 0, queue.err)
        XCTAssertTrue(queue.out.contains(id), queue.out)
        XCTAssertTrue(queue.out.contains("Tờ trình số 12 <script>") || queue.out.contains("Tờ trình số 12 \\u003cscript\\u003e"), queue.out)
        XCTAssertTrue(queue.out.contains("phu-luc.pdf"), queue.out)
        let page = curl("/documents/\(id)")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("Tờ trình số 12 &lt;script&gt;"), page.body)
        XCTAssertFalse(page.body.contains("<script>"))
        let outbox = curl("/outbox?q=TTr-UBND")
        XCTAssertTrue(outbox.body.contains("/documents/\(id)"), outbox.body)
    }
}
