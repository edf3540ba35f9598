import Foundation
import TestSupport
import Synchronization
import XCTest
@testable import GatewayCore

/// Attachments in the hot folder: a document waits until every attachment its sidecar names is
/// there, a file named as an attachment is never a document of its own, and all arrive → one
/// document with its attachments, the originals removed; refusals and crashes keep them together.
final class HotFolderAttachmentTests: XCTestCase {
    var fixture: StoreFixture!
    var intake: HotFolderIntake!

    override func setUp() async throws {
        fixture = try StoreFixture()
        try use(fixture.hotFolderIntake())
    }

    override func tearDown() async throws { fixture.close() }

    /// The intake the test speaks to, its folders made (the service makes them when it runs).
    func use(_ intake: HotFolderIntake) throws {
        self.intake = intake
        try FileManager.default.createDirectory(atPath: intake.rejectedFolder, withIntermediateDirectories: true)
    }

    var folder: String { intake.settings.folder }

    func put(_ name: String, _ bytes: [UInt8]) {
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(bytes)))
    }

    func exists(_ name: String, in directory: String? = nil) -> Bool {
        FileManager.default.fileExists(atPath: (directory ?? folder) + "/" + name)
    }

    func process(_ name: String) async -> HotFolderIntake.Outcome { await intake.process(Array(name.utf8)) }

    /// A pass over the whole folder, as at start or after an overflow.
    func rescan() async {
        intake.enqueueRescan()
        await intake.processPending()
    }

    let sidecar = #"{"recipients": ["000.00.20.H13"], "subject": "Quyết định có phụ lục", "attachments": ["Phụ lục 1.pdf", "Bảng số liệu.xlsx"]}"#
    let annex = SamplePDF.bytes("Phu luc 1")
    let sheet = Array("cột A;cột B\n1;2\n".utf8)

    func putDocument() {
        put("QĐ 12.json", Array(sidecar.utf8))
        put("QĐ 12.pdf", SamplePDF.bytes("Quyet dinh 12"))
    }

    func testTheDocumentWaitsForItsAttachmentsAndIsTakenWithThemAsOneDocument() async throws {
        putDocument()
        put("Phụ lục 1.pdf", annex)
        let first = await process("QĐ 12.pdf")
        XCTAssertEqual(first, .waitingForAttachments(["Bảng số liệu.xlsx"]))
        do {
            let outcome = await process("Phụ lục 1.pdf")
            XCTAssertEqual(outcome, .attachment, "never a document of its own")
        }
        await rescan()
        XCTAssertEqual(try fixture.store.list().count, 0)
        XCTAssertTrue(exists("QĐ 12.pdf") && exists("QĐ 12.json") && exists("Phụ lục 1.pdf"))
        XCTAssertEqual(intake.snapshot.waitingFiles, 1)
        XCTAssertFalse(exists("QĐ 12.pdf.error.txt"), "no error file before the wait is over")

        put("Bảng số liệu.xlsx", sheet)
        await rescan()
        let documents = try fixture.store.list()
        XCTAssertEqual(documents.map(\.fileName), ["QĐ 12.pdf"], "one document, the attachments inside it")
        let id = documents[0].id
        let attachments = try fixture.store.attachments(id)
        XCTAssertEqual(attachments.map(\.fileName), ["Phụ lục 1.pdf", "Bảng số liệu.xlsx"])
        XCTAssertEqual(try Array(Data(contentsOf: URL(fileURLWithPath: fixture.layout.attachmentPath(id, position: 1, version: 0)))), annex)
        XCTAssertEqual(try Array(Data(contentsOf: URL(fileURLWithPath: fixture.layout.attachmentPath(id, position: 2, version: 0)))), sheet)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["rejected"], "every original removed")
        let cause = try fixture.store.history(id)[0].cause
        XCTAssertTrue(cause.contains("2 attachment"), cause)
    }

    /// The event of an attachment alone (no rescan) completes its waiting document.
    func testAnAttachmentsArrivalTakesItsWaitingDocument() async throws {
        putDocument()
        put("Phụ lục 1.pdf", annex)
        await rescan()
        put("Bảng số liệu.xlsx", sheet)
        intake.enqueue(Array("Bảng số liệu.xlsx".utf8))
        await intake.processPending()
        XCTAssertEqual(try fixture.store.list().map(\.fileName), ["QĐ 12.pdf"])
        XCTAssertFalse(exists("Bảng số liệu.xlsx"))
    }

    /// A Mac writes decomposed names; the metadata's are NFC: they are the same file.
    func testAnAttachmentWithADecomposedNameIsFound() async throws {
        put("d.json", Array(#"{"recipients": ["000.00.20.H13"], "attachments": ["Phụ lục.xlsx"]}"#.utf8))
        put("d.pdf", SamplePDF.bytes("d"))
        put("Phu\u{0323} lu\u{0323}c.xlsx", sheet)
        do {
            let outcome = await process("Phu\u{0323} lu\u{0323}c.xlsx")
            XCTAssertEqual(outcome, .attachment)
        }
        guard case .taken(let id) = await process("d.pdf") else { return XCTFail() }
        XCTAssertEqual(try fixture.store.attachments(id).map(\.fileName), ["Phụ lục.xlsx"])
        XCTAssertFalse(exists("Phu\u{0323} lu\u{0323}c.xlsx"))
    }

    func testAfterTheWaitAnErrorFileSaysWhichAttachmentIsMissingAndTheDocumentStillWaits() async throws {
        try use(fixture.hotFolderIntake(attachmentWait: .zero))
        putDocument()
        put("Phụ lục 1.pdf", annex)
        do {
            let outcome = await process("QĐ 12.pdf")
            XCTAssertEqual(outcome, .waitingForAttachments(["Bảng số liệu.xlsx"]))
        }
        let note = try String(contentsOfFile: folder + "/QĐ 12.pdf.error.txt", encoding: .utf8)
        XCTAssertTrue(note.hasPrefix("Tệp \"QĐ 12.pdf\" đang chờ tệp đính kèm"), note)
        XCTAssertTrue(note.contains("\"Bảng số liệu.xlsx\""), note)
        XCTAssertTrue(note.contains("Mã lỗi / error code: missing_attachment"), note)
        XCTAssertTrue(exists("QĐ 12.pdf"), "not moved to rejected/: it waits")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: intake.rejectedFolder), [])
        do {
            let outcome = await process("QĐ 12.pdf.error.txt")
            XCTAssertEqual(outcome, .ignored)
        }

        put("Bảng số liệu.xlsx", sheet)
        guard case .taken = await process("QĐ 12.pdf") else { return XCTFail() }
        XCTAssertFalse(exists("QĐ 12.pdf.error.txt"), "the note goes with the document")
    }

    func testARefusedAttachmentRefusesTheDocumentAndEverythingMovesToRejected() async throws {
        putDocument()
        put("Phụ lục 1.pdf", Array("%PDF-1.4 not really".utf8))
        put("Bảng số liệu.xlsx", sheet)
        do {
            let outcome = await process("QĐ 12.pdf")
            XCTAssertEqual(outcome, .rejected(.notAPDF))
        }
        for name in ["QĐ 12.pdf", "QĐ 12.pdf.json", "Phụ lục 1.pdf", "Bảng số liệu.xlsx", "QĐ 12.pdf.error.txt"] {
            XCTAssertTrue(exists(name, in: intake.rejectedFolder), name)
        }
        let text = try String(contentsOfFile: intake.rejectedFolder + "/QĐ 12.pdf.error.txt", encoding: .utf8)
        XCTAssertTrue(text.contains("Tệp đính kèm \"Phụ lục 1.pdf\""), text)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["rejected"])
        XCTAssertEqual(try fixture.store.list().count, 0)
        XCTAssertEqual(try fixture.temporaryFiles(), [])
    }

    func testAnEmptyAttachmentIsRefusedWithItsName() async throws {
        putDocument()
        put("Phụ lục 1.pdf", annex)
        put("Bảng số liệu.xlsx", [])
        do {
            let outcome = await process("QĐ 12.pdf")
            XCTAssertEqual(outcome, .rejected(.emptyDocument))
        }
        XCTAssertTrue(exists("Bảng số liệu.xlsx", in: intake.rejectedFolder))
    }

    func testBadMetadataStillTakesTheAttachmentsAwayWithTheDocument() async throws {
        put("QĐ 12.json", Array(#"{"recipients": ["nowhere"], "attachments": ["Bảng số liệu.xlsx"]}"#.utf8))
        put("QĐ 12.pdf", SamplePDF.bytes("x"))
        put("Bảng số liệu.xlsx", sheet)
        do {
            let outcome = await process("QĐ 12.pdf")
            XCTAssertEqual(outcome, .rejected(.invalidAgencyCode))
        }
        XCTAssertTrue(exists("Bảng số liệu.xlsx", in: intake.rejectedFolder), "not left behind to be taken as a document")
    }

    func testAnAttachmentNamedLikeItsDocumentIsRefused() async throws {
        put("e.json", Array(#"{"recipients": ["000.00.20.H13"], "attachments": ["e.pdf"]}"#.utf8))
        put("e.pdf", SamplePDF.bytes("e"))
        do {
            let outcome = await process("e.pdf")
            XCTAssertEqual(outcome, .rejected(.invalidMetadata), "not held for ever as its own attachment")
        }
        XCTAssertTrue(exists("e.pdf", in: intake.rejectedFolder))
    }

    /// The box stopped after the commit, before every original was removed: the next pass
    /// recognises the document and removes what is left, whether or not its attachments were
    /// removed already; nothing is stored twice and no attachment becomes a document.
    func testAfterACrashBetweenCommitAndRemovalNothingIsStoredTwice() async throws {
        putDocument()
        put("Phụ lục 1.pdf", annex)
        put("Bảng số liệu.xlsx", sheet)
        let keep = fixture.directory + "/keep.pdf"
        XCTAssertEqual(link(folder + "/QĐ 12.pdf", keep), 0)
        guard case .taken(let id) = await process("QĐ 12.pdf") else { return XCTFail() }

        // Nothing removed yet.
        XCTAssertEqual(link(keep, folder + "/QĐ 12.pdf"), 0)
        putSidecar()
        put("Phụ lục 1.pdf", annex)
        put("Bảng số liệu.xlsx", sheet)
        await rescan()
        XCTAssertEqual(try fixture.store.list().map(\.id), [id])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["rejected"])

        // The attachments removed, not the sidecar nor the document.
        XCTAssertEqual(link(keep, folder + "/QĐ 12.pdf"), 0)
        putSidecar()
        do {
            let outcome = await process("QĐ 12.pdf")
            XCTAssertEqual(outcome, .alreadyStored(id))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["rejected"])
        XCTAssertEqual(try fixture.store.list().count, 1)
    }

    private func putSidecar() { put("QĐ 12.json", Array(sidecar.utf8)) }

    /// The service itself: the attachment that arrives last (renamed in, seen through inotify)
    /// completes its document, with no call from here.
    func testRunningServiceTakesTheDocumentWhenItsLastAttachmentArrives() async throws {
        let service = fixture.hotFolderIntake()
        let ended = Ended()  // why the service stopped, if it did: the test says so at once
        let task = Task {
            do { try await service.run() } catch { ended.set("\(error)") }
            ended.set("returned")
        }
        defer { task.cancel() }
        try await waitUntil { FileManager.default.fileExists(atPath: self.folder) }
        // Each file written under a hidden name and renamed in, as programs should (Foundation's
        // own atomic write goes through a temporary name the running service could see).
        func dropIn(_ name: String, _ bytes: [UInt8]) {
            put(".\(name).tmp", bytes)
            XCTAssertEqual(rename(folder + "/.\(name).tmp", folder + "/" + name), 0)
        }
        dropIn("QĐ 12.json", Array(sidecar.utf8))
        dropIn("QĐ 12.pdf", SamplePDF.bytes("Quyet dinh 12"))
        dropIn("Phụ lục 1.pdf", annex)
        func state() -> String {
            "\(service.snapshot) folder \((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []) "
                + "stored \((try? fixture.store.list().map(\.fileName)) ?? [])"
        }
        do { try await waitUntil { service.snapshot.waitingFiles == 1 || ended.reason != nil } } catch { XCTFail("the document never waited for its attachments: \(state())"); throw error }
        XCTAssertNil(ended.reason, "the service stopped")
        XCTAssertEqual(try fixture.store.list().count, 0)
        dropIn("Bảng số liệu.xlsx", sheet)
        do { try await waitUntil { !self.exists("QĐ 12.pdf") } } catch { XCTFail("the document was not taken with its attachments: \(state())"); throw error }
        let documents = try fixture.store.list()
        XCTAssertEqual(documents.map(\.fileName), ["QĐ 12.pdf"])
        XCTAssertEqual(try fixture.store.attachments(documents[0].id).count, 2)
        XCTAssertFalse(exists("Phụ lục 1.pdf"))
        XCTAssertFalse(exists("Bảng số liệu.xlsx"))
    }
}

/// Why a service task ended, set from the task and read by the test.
final class Ended: Sendable {
    private let value = Mutex<String?>(nil)
    var reason: String? { value.withLock { $0 } }
    func set(_ reason: String) { value.withLock { $0 = $0 ?? reason } }
}
