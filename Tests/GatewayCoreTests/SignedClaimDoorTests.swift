import DocumentModel
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore
import TimeJSON

/// Issue 14, acceptance 2, through the real daemon's doors: a `"signed": true` submission is
/// checked against `[trust]`, `[agency] tax_code` and `[[signing.leaders]]` before it is
/// committed. Sealed: queued as signed; the leader's signature only: waits for the seal;
/// unsigned, tampered, or under another root: refused with the reason, and nothing is kept.
final class SignedClaimDoorTests: XCTestCase {
    var daemon: RunningDaemon!
    var pki: TestPKI!
    var organization: TestPKI.Signer!
    var leader: TestPKI.Signer!
    var files = ""

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd: run `swift build` first")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl (apt-get install curl)")
        files = FileManager.default.temporaryDirectory.appendingPathComponent("gw-claims-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        pki = try TestPKI(directory: files)
        organization = try pki.issue("organization", subject: "/CN=UBND xã Hòa Tiến/O=UBND xã Hòa Tiến/UID=MST:0101234567", key: .p256)
        leader = try pki.issue("leader", subject: "/CN=Nguyễn Văn An/UID=CCCD:001085012345", key: .p256)
        daemon = try RunningDaemon(config: """
            [agency]
            code = "000.00.20.H13"
            name = "UBND xã Hòa Tiến"
            tax_code = "0101234567"

            [trust]
            anchors = ["\(pki.root)"]
            check_revocation = false

            [intake]
            disk_reserve = 0
            settle_delay = "50ms"

            [[signing.leaders]]
            name = "Nguyễn Văn An"
            title = "CHỦ TỊCH"
            identity = "CCCD:001085012345"
            """)
        try await daemon.waitUntilReady()
    }

    override func tearDown() async throws {
        daemon?.stop()
        try? FileManager.default.removeItem(atPath: files)
    }

    func pdf(_ name: String, signedBy signers: [TestPKI.Signer]) async throws -> String {
        let path = files + "/" + name
        try await SignedSamplePDF.write(path, text: "Quyet dinh \(name)", signedBy: signers)
        return path
    }

    func post(_ path: String, name: String) -> (http: Int, body: String) {
        let metadata = #"{"file_name": "\#(name)", "recipients": ["000.00.00.H41"], "subject": "Về việc \#(name)", "number": "12", "notation": "QĐ-UBND", "signed": true}"#
        return daemon.curl(["-X", "POST", "--data-binary", "@" + path, "-H", "X-Gateway-Metadata: " + Data(metadata.utf8).base64EncodedString()])
    }

    func state(_ body: String) throws -> DocumentState {
        try GatewayJSON.decoder.decode(DocumentView.self, from: Data(body.utf8)).document.state
    }

    func testTheAPITakesWhatIsSignedAndRefusesTheRestWithTheReason() async throws {
        let sealed = post(try await pdf("sealed.pdf", signedBy: [leader, organization]), name: "Quyết định 12.pdf")
        XCTAssertEqual(sealed.http, 201, sealed.body)
        XCTAssertEqual(try state(sealed.body), .signed)

        let leaders = post(try await pdf("leader.pdf", signedBy: [leader]), name: "Tờ trình 3.pdf")
        XCTAssertEqual(leaders.http, 201, leaders.body)
        XCTAssertEqual(try state(leaders.body), .awaitingSeal, "the leader's signature is there: the seal is still to come")

        let tampered = try await pdf("tampered.pdf", signedBy: [leader, organization])
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: tampered)))
        bytes[try XCTUnwrap(bytes.firstRange(of: Array("Quyet dinh".utf8))).lowerBound] = UInt8(ascii: "K")
        try Data(bytes).write(to: URL(fileURLWithPath: tampered))
        let otherRoot = try TestPKI(directory: files, name: "other-root", subject: "/CN=Another Root")
        let stranger = try otherRoot.issue("stranger", subject: "/CN=UBND xã Hòa Tiến/O=UBND xã Hòa Tiến/UID=MST:0101234567", key: .p256)
        let cases: [(String, String, String, String)] = [
            ("Chưa ký.pdf", try await pdf("unsigned.pdf", signedBy: []), "chưa được ký số", "is not digitally signed"),
            ("Bị sửa.pdf", tampered, "tệp đã bị sửa sau khi ký", "the file was changed after it was signed"),
            ("Gốc lạ.pdf", try await pdf("stranger.pdf", signedBy: [stranger]), "không dẫn tới gốc tin cậy", "does not chain to a trusted root"),
        ]
        for (name, path, vietnamese, english) in cases {
            let refused = post(path, name: name)
            XCTAssertEqual(refused.http, 400, "\(name): \(refused.body)")
            XCTAssertEqual(daemon.errorCode(refused.body), "signed_claim_refused", refused.body)
            let error = try JSONDecoder().decode(APIErrorBody.self, from: Data(refused.body.utf8)).error
            XCTAssertTrue(error.messageVi.contains(vietnamese) && error.messageEn.contains(english), "\(name): \(error)")
        }
        // `gatewayd submit --signed` is the same door: refused, with the reason, exit non-zero.
        let cli = daemon.cli(["submit", cases[0].1, "--to", "000.00.00.H41", "--signed", "--subject", "Thử", "--number", "13", "--notation", "QĐ-UBND"])
        XCTAssertNotEqual(cli.status, 0)
        XCTAssertTrue(cli.err.contains("chưa được ký số"), cli.err)

        let listed = daemon.cli(["queue", "list", "--json"]).out
        XCTAssertTrue(listed.contains("Quyết định 12.pdf") && listed.contains("Tờ trình 3.pdf"), listed)
        for (name, _, _, _) in cases { XCTAssertFalse(listed.contains(name), "\(name) refused, yet stored: \(listed)") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory + "/store/tmp"), [])
    }

    func testTheHotFolderMovesAnUnsignedClaimToRejectedAndTakesASealedOne() async throws {
        let folder = daemon.dataDirectory + "/outbox"
        let sidecar = #"{"recipients": ["000.00.00.H41"], "subject": "Về việc thử", "number": "14", "notation": "QĐ-UBND", "signed": true}"#
        func drop(_ name: String, from path: String) throws {
            try Data(sidecar.utf8).write(to: URL(fileURLWithPath: folder + "/" + name.replacingOccurrences(of: ".pdf", with: ".json")))
            try FileManager.default.copyItem(atPath: path, toPath: folder + "/" + name)
        }
        try drop("Chưa ký.pdf", from: try await pdf("unsigned.pdf", signedBy: []))
        try drop("Đã đóng dấu.pdf", from: try await pdf("sealed.pdf", signedBy: [organization]))
        let errorFile = folder + "/rejected/Chưa ký.pdf.error.txt"
        XCTAssertTrue(waitUntil(changesIn: folder) {
            FileManager.default.fileExists(atPath: errorFile) && !FileManager.default.fileExists(atPath: folder + "/Đã đóng dấu.pdf")
        }, "the hot folder did not settle both files")
        let text = try String(contentsOfFile: errorFile, encoding: .utf8)
        XCTAssertTrue(text.contains("chưa được ký số") && text.contains("is not digitally signed") && text.contains("signed_claim_refused"), text)
        let listed = daemon.cli(["queue", "list", "--json"]).out
        XCTAssertTrue(listed.contains("Đã đóng dấu.pdf") && !listed.contains("Chưa ký.pdf"), listed)
    }
}
