import DurableFiles
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore

/// A share user plants links where the hot folder writes (issue 16): at `rejected/.NAME.error.tmp`,
/// at `rejected/NAME.error.txt`, or in place of `rejected/` itself. Each must redirect nothing:
/// the stored document and the SQLite file keep their bytes and the store check stays clean.
final class HotFolderSymlinkTests: XCTestCase {
    var fixture: StoreFixture!
    var intake: HotFolderIntake!
    var stored: String!
    var folder: String { intake.settings.folder }
    var rejected: String { intake.rejectedFolder }

    override func setUp() async throws {
        fixture = try StoreFixture(limits: StoreLimits(maximumDocumentSize: 10_000, diskReserve: 0))
        intake = fixture.hotFolderIntake()
        try POSIXFile.makeDirectory(rejected)
        let receipt = try await fixture.submit(Array("văn bản đã lưu".utf8), name: "da-luu.pdf")
        stored = fixture.layout.objectPath(receipt.document.id, version: 0)
    }

    override func tearDown() async throws { fixture.close() }

    /// The bytes every attack aims at, before and after.
    func targets() throws -> [String] {
        try [stored, fixture.layout.databasePath].map { try POSIXFile.sha256(ofFile: $0).sha256 }
    }

    func assertNothingRedirected(_ before: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try targets(), before, "a link was written through", file: file, line: line)
        let report = try fixture.store.check(ownsStore: false)
        XCTAssertTrue(report.isClean, "\(report)", file: file, line: line)
    }

    func testLinksAtTheErrorFilesNamesAreNeverWrittenThrough() async throws {
        try FileManager.default.createSymbolicLink(atPath: rejected + "/.rong.pdf.error.tmp", withDestinationPath: stored)
        try FileManager.default.createSymbolicLink(atPath: rejected + "/rong.pdf.error.txt", withDestinationPath: fixture.layout.databasePath)
        let before = try targets()
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/rong.pdf", contents: Data()))
        let outcome = await intake.process(Array("rong.pdf".utf8))
        XCTAssertEqual(outcome, .rejected(.emptyDocument))
        try assertNothingRedirected(before)
        // The note is there all the same, a plain file of its own in place of the link.
        let attributes = try FileManager.default.attributesOfItem(atPath: rejected + "/rong.pdf.error.txt")
        XCTAssertEqual(attributes[.type] as? FileAttributeType, .typeRegular)
        let text = try String(contentsOfFile: rejected + "/rong.pdf.error.txt", encoding: .utf8)
        XCTAssertTrue(text.contains("Mã lỗi / error code: empty_document"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: rejected + "/.rong.pdf.error.tmp"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: rejected + "/rong.pdf"))
    }

    /// A FIFO where the sidecar should be: opening it used to block the intake for good (nobody
    /// writes to it). It is opened without blocking, found not a regular file, and refused.
    func testAFIFONamedLikeASidecarDoesNotBlockTheIntake() async throws {
        XCTAssertEqual(mkfifo(folder + "/qd.json", 0o644), 0)
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/qd.pdf", contents: Data(SamplePDF.bytes("Quyet dinh"))))
        let outcome = await intake.process(Array("qd.pdf".utf8))
        XCTAssertEqual(outcome, .rejected(.unreadableSidecar))
        let text = try String(contentsOfFile: rejected + "/qd.pdf.error.txt", encoding: .utf8)
        XCTAssertTrue(text.contains("không phải tệp thường") && text.contains("not a regular file"), text)
    }

    func testRejectedReplacedByALinkToADirectoryElsewhereReceivesNothing() async throws {
        let elsewhere = fixture.directory + "/elsewhere"
        try POSIXFile.makeDirectory(elsewhere)
        try FileManager.default.removeItem(atPath: rejected)
        try FileManager.default.createSymbolicLink(atPath: rejected, withDestinationPath: elsewhere)
        let before = try targets()
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/rong.pdf", contents: Data()))
        let outcome = await intake.process(Array("rong.pdf".utf8))
        XCTAssertEqual(outcome, .rejected(.emptyDocument))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: elsewhere), [], "moved through the link")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/rong.pdf"), "the refused file stays where it is")
        try assertNothingRedirected(before)
    }

    /// The same link pointing into the store itself: nothing lands among its objects.
    func testRejectedLinkedIntoTheStoreLeavesTheStoreClean() async throws {
        try FileManager.default.removeItem(atPath: rejected)
        try FileManager.default.createSymbolicLink(atPath: rejected, withDestinationPath: fixture.layout.objectsDirectory)
        let objects = try FileManager.default.contentsOfDirectory(atPath: fixture.layout.objectsDirectory)
        let before = try targets()
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/rong.pdf", contents: Data()))
        _ = await intake.process(Array("rong.pdf".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fixture.layout.objectsDirectory), objects)
        try assertNothingRedirected(before)
    }

    /// The note beside a document still waiting for an attachment, in the outbox itself.
    func testTheWaitingNoteFollowsNoLink() async throws {
        let waiting = fixture.hotFolderIntake(attachmentWait: .zero)
        try FileManager.default.createSymbolicLink(atPath: folder + "/.cho.pdf.error.tmp", withDestinationPath: stored)
        try FileManager.default.createSymbolicLink(atPath: folder + "/cho.pdf.error.txt", withDestinationPath: fixture.layout.databasePath)
        let before = try targets()
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/cho.json",
                                                    contents: Data(#"{"recipients": ["000.00.20.H13"], "attachments": ["Phụ lục.xlsx"]}"#.utf8)))
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/cho.pdf", contents: Data(SamplePDF.bytes("cho phu luc"))))
        let outcome = await waiting.process(Array("cho.pdf".utf8))
        XCTAssertEqual(outcome, .waitingForAttachments(["Phụ lục.xlsx"]))
        try assertNothingRedirected(before)
        let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/cho.pdf.error.txt")
        XCTAssertEqual(attributes[.type] as? FileAttributeType, .typeRegular)
        XCTAssertTrue(try String(contentsOfFile: folder + "/cho.pdf.error.txt", encoding: .utf8).contains("Phụ lục.xlsx"))
    }
}
