import Foundation
import Logging
import TestSupport
import XCTest
@testable import GatewayCore

/// Issue 13, acceptance 2 (first item), through both doors: a `.pdf` that is not a PDF and an
/// encrypted PDF are refused at intake with their reason, and nothing is stored.
final class PDFIntakeDoorTests: XCTestCase {
    var directory = ""

    override func setUp() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-pdfdoor-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() async throws { try? FileManager.default.removeItem(atPath: directory) }

    func encryptedPDF() throws -> [UInt8] {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/qpdf"), "needs qpdf (scripts/install-deps)")
        XCTAssertTrue(FileManager.default.createFile(atPath: directory + "/plain.pdf", contents: Data(SamplePDF.bytes("Tờ trình"))))
        let result = runProgram("/usr/bin/qpdf", ["--encrypt", TestSecrets.value("pdf.user-password"), TestSecrets.value("pdf.owner-password"), "256", "--", directory + "/plain.pdf", directory + "/locked.pdf"])
        XCTAssertEqual(result.status, 0, result.err)
        return Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/locked.pdf")))
    }

    func testHotFolderMovesAFakeAndAnEncryptedPDFToRejectedWithTheReason() async throws {
        let fixture = try StoreFixture(directory: directory + "/store")
        defer { fixture.close() }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let intake = HotFolderIntake(
            settings: .init(folder: directory + "/outbox", settleDelay: .milliseconds(10), diskRetryInterval: .seconds(30),
                            parser: MetadataParser(defaultRecipients: StoreFixture.recipients)),
            store: fixture.store, logger: logger)
        let folder = intake.settings.folder
        try FileManager.default.createDirectory(atPath: intake.rejectedFolder, withIntermediateDirectories: true)
        func put(_ name: String, _ bytes: [UInt8]) { XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(bytes))) }
        func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

        put("Hợp lệ.pdf", SamplePDF.bytes("Quyết định"))
        guard case .taken(let id) = await intake.process(Array("Hợp lệ.pdf".utf8)) else { return XCTFail("a real PDF refused") }
        let before = try fixture.snapshot()

        let cases: [(String, [UInt8], IntakeError.Code, String, String)] = [
            ("Quyết định.pdf", Array("%PDF-1.4 test".utf8), .notAPDF, "không phải PDF hợp lệ", "is not a valid PDF"),
            ("BÁO CÁO.PDF", Array("Báo cáo tuần".utf8), .notAPDF, "không phải PDF hợp lệ", "is not a valid PDF"),
            ("Tờ trình.pdf", try encryptedPDF(), .encryptedPDF, "gỡ mật khẩu", "Remove the password"),
        ]
        for (name, bytes, code, vietnamese, english) in cases {
            put(name.replacingOccurrences(of: ".pdf", with: ".json").replacingOccurrences(of: ".PDF", with: ".json"),
                Array(#"{"recipients": ["000.00.20.H13"], "subject": "Thử"}"#.utf8))
            put(name, bytes)
            let outcome = await intake.process(Array(name.utf8))
            XCTAssertEqual(outcome, .rejected(code), name)
            XCTAssertFalse(exists(folder + "/" + name), name)
            XCTAssertTrue(exists(intake.rejectedFolder + "/" + name), name)
            XCTAssertTrue(exists(intake.rejectedFolder + "/" + name + ".json"), "its sidecar goes with it: \(name)")
            let text = try String(contentsOfFile: intake.rejectedFolder + "/" + name + ".error.txt", encoding: .utf8)
            XCTAssertTrue(text.contains(vietnamese) && text.contains(english), text)
            XCTAssertTrue(text.contains("Mã lỗi / error code: \(code.rawValue)"), text)
            XCTAssertLessThan(try XCTUnwrap(text.range(of: vietnamese)).lowerBound, try XCTUnwrap(text.range(of: english)).lowerBound)
            XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: intake.rejectedFolder + "/" + name))), bytes, "kept as it came")
        }
        XCTAssertEqual(try fixture.snapshot(), before, "nothing stored, nothing changed")
        XCTAssertEqual(try fixture.temporaryFiles(), [])
        XCTAssertEqual(try fixture.store.list(limit: 100).map(\.id), [id])
        XCTAssertEqual(intake.snapshot.lastRefusal, "encrypted_pdf")
    }

    func testLocalAPIAnswersTheCodeAndStoresNothing() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd: run `swift build` first")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "needs curl (apt-get install curl)")
        let daemon = try RunningDaemon(config: "[intake]\ndisk_reserve = 0\n")
        defer { daemon.stop() }
        try await daemon.waitUntilReady()
        func write(_ name: String, _ bytes: [UInt8]) -> String {
            let path = daemon.directory + "/" + name
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            return path
        }
        func post(_ path: String, name: String, extra: [String] = []) -> (http: Int, body: String) {
            let metadata = #"{"file_name": "\#(name)", "recipients": ["000.00.20.H13"]}"#
            return daemon.curl(["-X", "POST", "--data-binary", "@" + path, "-H", "X-Gateway-Metadata: " + Data(metadata.utf8).base64EncodedString()] + extra)
        }

        let good = post(write("good.pdf", SamplePDF.bytes()), name: "Quyết định.pdf")
        XCTAssertEqual(good.http, 201, good.body)

        let fake = write("fake.pdf", Array("%PDF-1.4 test".utf8))
        let cases: [(String, (http: Int, body: String), String)] = [
            ("13 bytes named .pdf", post(fake, name: "Quyết định 2.pdf"), "not_a_pdf"),
            ("posted as application/pdf", post(write("a.bin", Array("không phải PDF".utf8)), name: "a.bin", extra: ["-H", "Content-Type: application/pdf"]), "not_a_pdf"),
            ("encrypted", post(write("locked.pdf", try encryptedPDF()), name: "Tờ trình.pdf"), "encrypted_pdf"),
        ]
        for (label, response, code) in cases {
            XCTAssertEqual(response.http, 400, "\(label): \(response.body)")
            XCTAssertEqual(daemon.errorCode(response.body), code, "\(label): \(response.body)")
            let error = try JSONDecoder().decode(APIErrorBody.self, from: Data(response.body.utf8)).error
            XCTAssertTrue(error.messageVi.hasPrefix("Tệp \""), error.messageVi)
        }
        // The client command says it too, and fails.
        let submitted = daemon.cli(["submit", fake, "--to", "000.00.20.H13"])
        XCTAssertNotEqual(submitted.status, 0)
        XCTAssertTrue(submitted.err.contains("không phải PDF hợp lệ"), submitted.err)
        // A document that does not claim to be a PDF is taken as before.
        XCTAssertEqual(post(write("bảng.xlsx", Array("PK bảng tính".utf8)), name: "Bảng.xlsx").http, 201)

        let after = daemon.cli(["queue", "list", "--json"]).out
        XCTAssertTrue(after.contains("Bảng.xlsx") && after.contains("Quyết định.pdf") && !after.contains("Tờ trình.pdf") && !after.contains("Quyết định 2.pdf"), after)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory + "/store/tmp"), [])
    }
}
