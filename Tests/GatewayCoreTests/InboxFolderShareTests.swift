import DocumentModel
import DurableFiles
import EdXML
import Foundation
import XCTest
@testable import GatewayCore

/// The inbox folder is a Windows share clerks write to (issue 16): what a sender names its
/// attachments, and what a share user plants there, must reach neither the clerks' Explorer nor
/// the store.
final class InboxFolderShareTests: XCTestCase {
    var fixture: StoreFixture!
    var inbox: String { fixture.directory + "/inbox" }
    var writer: InboxFolderWriter {
        InboxFolderWriter(folder: inbox, layout: fixture.layout, directory: ["000.00.00.H41": "UBND tỉnh Quảng Trị"])
    }
    let expectedName = "2026-11-20 125-QĐ-UBND UBND tỉnh Quảng Trị"

    override func setUp() async throws {
        fixture = try StoreFixture()
        try POSIXFile.makeDirectory(inbox)
    }

    override func tearDown() async throws { fixture.close() }

    /// A package from the province with these attachments (each holding its own name), stored as
    /// hub item `hubID`.
    func stored(hubID: Int64, attachments: [String] = ["quyết định.pdf"]) async throws -> InboundRecord {
        var files: [String] = []
        for (index, name) in attachments.enumerated() {
            let path = fixture.directory + "/attachment-\(hubID)-\(index)"
            try Data(name.utf8).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let package = DocumentPackage(header: UnitInboxFolderTests.header, attachments: attachments.enumerated().map { index, name in
            AttachmentInfo(contentId: "a\(index)", name: name, contentType: "application/octet-stream")
        })
        try await PackageWriter.write(package, attachmentFiles: files, to: fixture.layout.inboxPath(hubID: hubID))
        return InboundRecord(hubID: hubID, kind: "document", packageKey: "k\(hubID)", sender: "000.00.00.H41", sha256: "", size: 0,
                             storedAt: Date(), ackedAt: Date(), statusSentAt: nil, statusReceipt: nil, folder: nil)
    }

    func place(_ record: InboundRecord) async throws -> String {
        try await writer.place(record, packagePath: fixture.layout.inboxPath(hubID: record.hubID))
    }

    func listing(_ directory: String) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory).sorted() }

    func testHostileAttachmentsAreSetAsideOrRenamedAndNoted() async throws {
        let hostile = ["desktop.ini", "thu moi.url", "hoadon\u{202E}fdp.exe", "CON.txt", "a<b>.pdf"]
        let name = try await place(try await stored(hubID: 3, attachments: hostile))
        XCTAssertEqual(name, expectedName)
        XCTAssertEqual(try listing(inbox + "/" + name), ["_CON.txt", "a-b-.pdf", "thong-tin.txt"], "nothing Windows acts on reaches the clerks")
        XCTAssertEqual(try String(contentsOfFile: inbox + "/" + name + "/_CON.txt", encoding: .utf8), "CON.txt", "the bytes as sent")
        let aside = writer.setAsideDirectory(hubID: 3)
        XCTAssertTrue(aside.hasPrefix(fixture.layout.inboxDirectory), "kept in the store")
        XCTAssertEqual(try listing(aside), ["desktop.ini", "hoadonfdp.exe", "thu moi.url"])
        XCTAssertEqual(try String(contentsOfFile: aside + "/hoadonfdp.exe", encoding: .utf8), "hoadon\u{202E}fdp.exe")
        let text = try String(contentsOfFile: inbox + "/" + name + "/thong-tin.txt", encoding: .utf8)
        for setAside in ["desktop.ini", "thu moi.url", "hoadonfdp.exe"] {
            XCTAssertTrue(text.contains("Tệp bị giữ lại, không đặt vào thư mục này / File set aside, not placed in this folder: \"\(setAside)\""), text)
            XCTAssertTrue(text.contains("Cán bộ kỹ thuật lấy tệp tại / The technician finds it at: \(aside)/\(setAside)"), text)
        }
        XCTAssertTrue(text.contains("hoadonfdp.exe\" (tên gốc / original name: \"hoadon[U+202E]fdp.exe\")"), text)
        XCTAssertTrue(text.contains("Lý do: tệp chương trình hoặc tập lệnh"), text)
        XCTAssertTrue(text.contains("/ Reason: Windows reads this kind of file when the folder is opened"), text)
        XCTAssertTrue(text.contains("Tệp đính kèm / Attachments: _CON.txt (tên gốc / original name: \"CON.txt\"); a-b-.pdf (tên gốc / original name: \"a<b>.pdf\")"), text)
        XCTAssertFalse(text.unicodeScalars.contains { $0.value == 0x202E }, "no override character in the clerks' text")
    }

    /// Two attachments Windows would see as one, and one named like our own file.
    func testCollisionsAreNumbered() async throws {
        let name = try await place(try await stored(hubID: 4, attachments: ["Báo cáo.pdf", "báo cáo.pdf", "thong-tin.txt", "a:b.pdf", "a|b.pdf"]))
        XCTAssertEqual(try listing(inbox + "/" + name),
                       ["Báo cáo.pdf", "a-b (2).pdf", "a-b.pdf", "báo cáo (2).pdf", "thong-tin (2).txt", "thong-tin.txt"])
    }

    /// Links planted where the next document's folder and its staging folder would go: nothing
    /// is written through them, the document goes to a fresh name, the store is untouched.
    func testLinksPlantedWhereTheFolderWouldGoRedirectNothing() async throws {
        let elsewhere = fixture.directory + "/elsewhere"
        try POSIXFile.makeDirectory(elsewhere)
        try FileManager.default.createSymbolicLink(atPath: inbox + "/" + expectedName, withDestinationPath: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: inbox + "/" + InboxFolderName.staging(hubID: 5), withDestinationPath: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: inbox + "/" + expectedName + " (2)", withDestinationPath: fixture.layout.databasePath)
        let database = try POSIXFile.sha256(ofFile: fixture.layout.databasePath).sha256
        let name = try await place(try await stored(hubID: 5))
        XCTAssertEqual(name, expectedName + " (3)")
        XCTAssertEqual(try listing(elsewhere), [], "written through a link")
        XCTAssertEqual(try listing(inbox + "/" + name), ["quyết định.pdf", "thong-tin.txt"])
        XCTAssertEqual(try POSIXFile.sha256(ofFile: fixture.layout.databasePath).sha256, database)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: inbox + "/" + expectedName), elsewhere, "the clerk's link left alone")
        XCTAssertTrue(try fixture.store.check(ownsStore: false).isClean)
    }

    /// Before issue 16 a `.hub-<id>` file inside a folder of the document's name meant "placed
    /// already": a clerk could hide the next document with a link to a folder holding one.
    func testAForgedMarkerHidesNoDocument() async throws {
        let decoy = fixture.directory + "/decoy"
        try POSIXFile.makeDirectory(decoy)
        XCTAssertTrue(FileManager.default.createFile(atPath: decoy + "/.hub-10", contents: Data()))
        try FileManager.default.createSymbolicLink(atPath: inbox + "/" + expectedName, withDestinationPath: decoy)
        let name = try await place(try await stored(hubID: 10))
        XCTAssertEqual(name, expectedName + " (2)")
        XCTAssertEqual(try listing(inbox + "/" + name), ["quyết định.pdf", "thong-tin.txt"])
    }

    /// A crash between the rename into view and the commit of the folder's name: placed again,
    /// the same folder is recognised (by the record kept in the store, not a marker on the
    /// share) and no second one appears; a clerk's folder of the same name is not taken for it.
    func testAPlacementRepeatedAfterACrashMakesNoSecondFolder() async throws {
        let record = try await stored(hubID: 6)
        let first = try await place(record)
        let again = try await place(record)
        XCTAssertEqual(again, first)
        XCTAssertEqual(try listing(inbox), [first], "no duplicate, no staging left")
        XCTAssertFalse(try listing(inbox + "/" + first).contains { $0.hasPrefix(".") }, "no marker on the share")
        writer.placed(hubID: 6)
        // A clerk removes it and makes one of the same name: not ours, so placed beside it.
        try FileManager.default.removeItem(atPath: inbox + "/" + first)
        try POSIXFile.makeDirectory(inbox + "/" + first)
        let beside = try await place(try await stored(hubID: 7))
        XCTAssertEqual(beside, first + " (2)")
    }

    /// The record says a folder was placed, but a clerk (or a crash before the rename) left
    /// something else under that name: placed anew, once.
    func testARecordPointingAtSomethingElseIsNotTrusted() async throws {
        let record = try await stored(hubID: 8)
        try POSIXFile.makeDirectory(inbox + "/" + expectedName)
        try Data("1 2\n\(expectedName)".utf8).write(to: URL(fileURLWithPath: fixture.layout.inboxDirectory + "/8.placing"))
        let placed = try await place(record)
        XCTAssertEqual(placed, expectedName + " (2)")
    }

    /// The invalid mark and a re-check's `thong-tin.txt`, with links planted at the names they use.
    func testMarkAndVerdictUpdateFollowNoLink() async throws {
        let name = try await place(try await stored(hubID: 9))
        let database = try POSIXFile.sha256(ofFile: fixture.layout.databasePath).sha256
        try FileManager.default.createSymbolicLink(atPath: inbox + "/" + name + "/thong-tin.txt.part", withDestinationPath: fixture.layout.databasePath)
        try FileManager.default.createSymbolicLink(atPath: inbox + "/" + name + InboxFolder.invalidMark, withDestinationPath: fixture.directory)
        let verdict = IncomingVerdict(findings: [.init(file: "quyết định.pdf", signer: nil, outcome: .invalid, reason: "sửa sau khi ký")], checkedAt: Date())
        try writer.updateVerdict(folderName: name, verdict)
        XCTAssertEqual(try writer.markInvalid(folderName: name), name + InboxFolder.invalidMark + " (2)")
        XCTAssertEqual(try POSIXFile.sha256(ofFile: fixture.layout.databasePath).sha256, database)
        let text = try String(contentsOfFile: inbox + "/" + name + InboxFolder.invalidMark + " (2)/thong-tin.txt", encoding: .utf8)
        XCTAssertTrue(text.contains("không hợp lệ / invalid"), text)
    }
}
