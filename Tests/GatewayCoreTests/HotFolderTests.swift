import DocumentModel
import Foundation
import TestSupport
import Logging
import XCTest
@testable import GatewayCore

final class HotFolderTests: XCTestCase {
    var fixture: StoreFixture!
    var intake: HotFolderIntake!
    var folder: String { intake.settings.folder }

    override func setUp() async throws {
        fixture = try StoreFixture(limits: StoreLimits(maximumDocumentSize: 10_000, diskReserve: 0))
        intake = makeIntake()
        try FileManager.default.createDirectory(atPath: intake.rejectedFolder, withIntermediateDirectories: true)
        // Every bad-input test starts with one accepted document that must come out unchanged.
        _ = try await fixture.submit(Array("văn bản đã nhận trước".utf8), name: "truoc.pdf")
    }

    override func tearDown() async throws { fixture.close() }

    func makeIntake(defaults: [AgencyCode] = [], retry: Duration = .seconds(30)) -> HotFolderIntake {
        fixture.hotFolderIntake(defaults: defaults, retry: retry)
    }

    func put(_ name: String, _ text: String) {
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(text.utf8)))
    }

    func exists(_ name: String, in directory: String? = nil) -> Bool {
        FileManager.default.fileExists(atPath: (directory ?? folder) + "/" + name)
    }

    let sidecar = #"{"recipients": ["000.00.20.H13"], "subject": "Giấy mời họp", "priority": 3}"#

    /// Runs one bad input and checks: the exact code, the file (and sidecar) moved to rejected/
    /// with NAME.error.txt (Vietnamese first), nothing in the store changed.
    func assertRejected(_ name: String, _ code: IntakeError.Code, sidecarName: String? = nil, file: StaticString = #filePath, line: UInt = #line) async throws {
        let before = try fixture.snapshot()
        let outcome = await intake.process(Array(name.utf8))
        XCTAssertEqual(outcome, .rejected(code), file: file, line: line)
        XCTAssertFalse(exists(name), "original left in the outbox", file: file, line: line)
        XCTAssertTrue(exists(name, in: intake.rejectedFolder), file: file, line: line)
        let errorText = try String(contentsOfFile: intake.rejectedFolder + "/" + name + ".error.txt", encoding: .utf8)
        XCTAssertTrue(errorText.hasPrefix("Tệp \""), errorText, file: file, line: line)
        XCTAssertTrue(errorText.contains("Mã lỗi / error code: \(code.rawValue)"), errorText, file: file, line: line)
        let vietnamese = try XCTUnwrap(errorText.range(of: "Lý do:"), file: file, line: line)
        let english = try XCTUnwrap(errorText.range(of: "Reason:"), file: file, line: line)
        XCTAssertLessThan(vietnamese.lowerBound, english.lowerBound, file: file, line: line)
        if let sidecarName {
            XCTAssertFalse(exists(sidecarName), "sidecar left in the outbox", file: file, line: line)
        }
        XCTAssertEqual(try fixture.snapshot(), before, "an earlier document changed", file: file, line: line)
        XCTAssertEqual(try fixture.temporaryFiles(), [], file: file, line: line)
    }

    func testCompleteFileWithSidecarIsTakenAndOriginalsRemoved() async throws {
        put("Giấy mời.json", sidecar)
        put("Giấy mời.pdf", SamplePDF.text("nội dung giấy mời"))
        guard case .taken(let id) = await intake.process(Array("Giấy mời.pdf".utf8)) else { return XCTFail() }
        XCTAssertFalse(exists("Giấy mời.pdf"))
        XCTAssertFalse(exists("Giấy mời.json"))
        let record = try XCTUnwrap(try fixture.store.document(id))
        XCTAssertEqual(record.fileName, "Giấy mời.pdf")
        XCTAssertEqual(record.source, .hotFolder)
        XCTAssertEqual(record.metadata.subject, "Giấy mời họp")
        XCTAssertEqual(record.metadata.priority, .flash)
        XCTAssertEqual(try String(contentsOfFile: fixture.layout.objectPath(id, version: 0), encoding: .utf8), SamplePDF.text("nội dung giấy mời"))
    }

    func testSidecarNamedAfterTheFullFileNameIsUsed() async throws {
        put("a.pdf.json", #"{"recipients": ["000.00.20.H14"]}"#)
        put("a.pdf", SamplePDF.text())
        guard case .taken(let id) = await intake.process(Array("a.pdf".utf8)) else { return XCTFail() }
        XCTAssertEqual(try fixture.store.document(id)?.metadata.recipients.map(\.rawValue), ["000.00.20.H14"])
    }

    func testWorkInProgressNamesAndSidecarsAreNotTaken() async throws {
        for name in [".hidden.pdf", "a.tmp", "b.part", "c.docx~", "d.json", "e.crdownload"] {
            put(name, "x")
            let outcome = await intake.process(Array(name.utf8))
            XCTAssertEqual(outcome, .ignored, name)
            XCTAssertTrue(exists(name), name)
        }
    }

    func testEmptyFileIsRejected() async throws {
        put("trống.pdf", "")
        try await assertRejected("trống.pdf", .emptyDocument)
    }

    func testFileOverTheMaximumSizeIsRejected() async throws {
        put("lớn.pdf", String(repeating: "x", count: 10_001))
        try await assertRejected("lớn.pdf", .documentTooLarge)
    }

    func testSidecarThatIsNotJSONIsRejectedWithTheDocument() async throws {
        put("b.json", "{recipients: 000.00.20.H13")
        put("b.pdf", "x")
        try await assertRejected("b.pdf", .unreadableSidecar, sidecarName: "b.json")
        XCTAssertTrue(exists("b.pdf.json", in: intake.rejectedFolder))
    }

    func testSidecarThatIsNotUTF8IsRejected() async throws {
        FileManager.default.createFile(atPath: folder + "/c.json", contents: Data([0x7B, 0xFF, 0xFE, 0x7D]))
        put("c.pdf", "x")
        try await assertRejected("c.pdf", .unreadableSidecar, sidecarName: "c.json")
    }

    func testInvalidAgencyCodeIsRejected() async throws {
        put("d.json", #"{"recipients": ["000.00.20.H13", "UBND huyện"]}"#)
        put("d.pdf", "x")
        try await assertRejected("d.pdf", .invalidAgencyCode, sidecarName: "d.json")
        let text = try String(contentsOfFile: intake.rejectedFolder + "/d.pdf.error.txt", encoding: .utf8)
        XCTAssertTrue(text.contains("UBND huyện"))
        XCTAssertTrue(text.contains("recipients[1]"))
    }

    func testUnknownPriorityIsRejected() async throws {
        put("e.json", #"{"recipients": ["000.00.20.H13"], "priority": 7}"#)
        put("e.pdf", "x")
        try await assertRejected("e.pdf", .unknownPriority, sidecarName: "e.json")
    }

    func testMissingRecipientsIsRejectedUnlessADefaultIsConfigured() async throws {
        put("f.pdf", "x")
        try await assertRejected("f.pdf", .missingRecipients)
        intake = makeIntake(defaults: [AgencyCode("000.00.20.H13")!])
        put("g.pdf", SamplePDF.text())
        guard case .taken(let id) = await intake.process(Array("g.pdf".utf8)) else { return XCTFail() }
        XCTAssertEqual(try fixture.store.document(id)?.metadata.recipients.map(\.rawValue), ["000.00.20.H13"])
    }

    func testNamesWithControlCharactersOrBackslashesAreRejected() async throws {
        put("h.json", sidecar)
        put("bad\u{1}name.pdf", "x")
        try await assertRejected("bad\u{1}name.pdf", .invalidFileName)
        put("thư mục\\con.pdf", "x")
        try await assertRejected("thư mục\\con.pdf", .invalidFileName)
    }

    func testSymlinkIsRejectedAsNotARegularFile() async throws {
        try FileManager.default.createSymbolicLink(atPath: folder + "/link.pdf", withDestinationPath: "/etc/hostname")
        try await assertRejected("link.pdf", .notARegularFile)
    }

    func testFileStillOpenForWritingIsLeftUntilClosed() async throws {
        put("dang-ghi.json", sidecar)
        let path = folder + "/dang-ghi.pdf"
        let fd = open(path, O_WRONLY | O_CREAT, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = SamplePDF.bytes("một nửa").withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let before = try fixture.snapshot()
        let outcome = await intake.process(Array("dang-ghi.pdf".utf8))
        XCTAssertEqual(outcome, .deferred(.fileStillBeingWritten))
        XCTAssertTrue(exists("dang-ghi.pdf"))
        XCTAssertTrue(exists("dang-ghi.json"))
        XCTAssertFalse(exists("dang-ghi.pdf", in: intake.rejectedFolder))
        XCTAssertEqual(try fixture.snapshot(), before)
        XCTAssertEqual(try fixture.temporaryFiles(), [])
        close(fd)
        guard case .taken = await intake.process(Array("dang-ghi.pdf".utf8)) else { return XCTFail("not taken after close") }
    }

    /// The box died after the commit but before removing the original: the file is recognised
    /// (same inode, size, time and name) and only removed, never stored twice.
    func testFileStoredBeforeACrashIsNotStoredTwice() async throws {
        put("i.json", sidecar)
        put("i.pdf", SamplePDF.text("nội dung"))
        let keep = fixture.directory + "/i.pdf.keep"
        XCTAssertEqual(link(folder + "/i.pdf", keep), 0)
        guard case .taken(let id) = await intake.process(Array("i.pdf".utf8)) else { return XCTFail() }
        XCTAssertEqual(link(keep, folder + "/i.pdf"), 0)  // as if the unlink never reached the disk
        let count = try fixture.store.list(limit: 1000).count
        let outcome = await intake.process(Array("i.pdf".utf8))
        XCTAssertEqual(outcome, .alreadyStored(id))
        XCTAssertFalse(exists("i.pdf"))
        XCTAssertEqual(try fixture.store.list(limit: 1000).count, count)
    }

    func testRefusedFileNeverReplacesAnEarlierRefusedFileOfTheSameName() async throws {
        put("j.pdf", "")
        try await assertRejected("j.pdf", .emptyDocument)
        put("j.pdf", "")
        _ = await intake.process(Array("j.pdf".utf8))
        XCTAssertTrue(exists("j (2).pdf", in: intake.rejectedFolder))
        XCTAssertTrue(exists("j (2).pdf.error.txt", in: intake.rejectedFolder))
    }

    /// The service itself: inotify sees a file renamed in and it is taken with no call from here.
    func testRunningServiceTakesAFileRenamedIn() async throws {
        let service = makeIntake()
        let task = Task { try await service.run() }
        defer { task.cancel() }
        try await waitUntil { FileManager.default.fileExists(atPath: self.folder) }
        // A first file taken proves the watch is in place (it is set before the first scan), so
        // the next one can only be noticed through inotify.
        put(".first.pdf.tmp", SamplePDF.text("first"))
        XCTAssertEqual(rename(folder + "/.first.pdf.tmp", folder + "/first.pdf"), 0)
        try await waitUntil { !self.exists("first.pdf") }
        put(".k.json.tmp", sidecar)
        XCTAssertEqual(rename(folder + "/.k.json.tmp", folder + "/k.json"), 0)
        put(".k.pdf.tmp", SamplePDF.text())
        XCTAssertEqual(rename(folder + "/.k.pdf.tmp", folder + "/k.pdf"), 0)
        try await waitUntil { !self.exists("k.pdf") }
        XCTAssertTrue(try fixture.store.list(limit: 1000).contains { $0.fileName == "k.pdf" })
    }
}

/// Waits for something another thread or process does, up to a bound (a correctness wait, not a
/// speed check: the bound is far above the expected time).
func waitUntil(seconds: Double = 15, _ condition: @escaping () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(20))  // the poll interval of the condition wait
    }
    XCTFail("condition not met within \(seconds) s")
    throw CancellationError()
}
