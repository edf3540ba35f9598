import DocumentModel
import DurableFiles
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore
import TimeJSON

/// Attachments (phụ lục) in the metadata and the store: the names the metadata accepts, the file
/// names in `objects/`, a document committed with its attachments in one commit, and the check's
/// view of them (missing, orphaned, older versions kept).
final class StoreAttachmentTests: XCTestCase {
    var fixture: StoreFixture!

    override func setUp() async throws { fixture = try StoreFixture() }
    override func tearDown() async throws { fixture.close() }

    // MARK: Metadata

    func parse(_ json: String) throws -> DocumentMetadata {
        try MetadataParser(defaultRecipients: StoreFixture.recipients).parse(Array(json.utf8)).metadata
    }

    func testAttachmentsAreReadAsNFCNamesInOrder() throws {
        let decomposed = "Phu\u{0323} lu\u{0323}c 1.pdf"
        let metadata = try parse(#"{"attachments": ["\#(decomposed)", "Bảng số liệu.xlsx"]}"#)
        XCTAssertEqual(metadata.attachments, ["Phụ lục 1.pdf", "Bảng số liệu.xlsx"])
        XCTAssertNil(try parse("{}").attachments, "none: the key is left out of the stored JSON")
        XCTAssertNil(try parse(#"{"attachments": []}"#).attachments)
    }

    func testBadAttachmentListsAreRefusedWithTheField() {
        func code(_ json: String) -> (IntakeError.Code, String?)? {
            do { _ = try parse(json); return nil } catch let error as IntakeError { return (error.code, error.field) } catch { return nil }
        }
        XCTAssertEqual(code(#"{"attachments": "a.pdf"}"#)?.1, "attachments")
        XCTAssertEqual(code(#"{"attachments": ["a.pdf", 3]}"#)?.1, "attachments[1]")
        XCTAssertEqual(code(#"{"attachments": ["a/b.pdf"]}"#)?.1, "attachments[0]")
        XCTAssertEqual(code(#"{"attachments": ["a.pdf", "a.pdf"]}"#)?.1, "attachments[1]")
        XCTAssertEqual(code(#"{"attachments": ["Phu\#u{0323} lu\#u{0323}c.pdf", "Phụ lục.pdf"]}"#)?.1, "attachments[1]", "the same name in NFC")
        XCTAssertEqual(code(#"{"attachments": ["data.json"]}"#)?.1, "attachments[0]", "a sidecar name")
        let many = (1...21).map { "\"p\($0).pdf\"" }.joined(separator: ",")
        XCTAssertEqual(code(#"{"attachments": [\#(many)]}"#)?.0, .invalidMetadata)
        XCTAssertNil(code(#"{"attachments": [\#((1...20).map { "\"p\($0).pdf\"" }.joined(separator: ","))]}"#))
    }

    // MARK: Names in objects/

    func testObjectNamesRoundTripAndStrangersAreNotRecognised() throws {
        let id = fixture.store.newDocumentID()
        let names: [(String, StoreLayout.ObjectName)] = [
            (StoreLayout.objectName(id, version: 0), .init(id: id, attachment: nil, version: 0)),
            (StoreLayout.objectName(id, version: 2), .init(id: id, attachment: nil, version: 2)),
            (StoreLayout.attachmentName(id, position: 1, version: 0), .init(id: id, attachment: 1, version: 0)),
            (StoreLayout.attachmentName(id, position: 12, version: 1), .init(id: id, attachment: 12, version: 1)),
            (StoreLayout.attachmentSignatureName(id, position: 3), .init(id: id, attachment: 3, version: 0, isDetachedSignature: true)),
        ]
        for (name, object) in names { XCTAssertEqual(StoreLayout.parseObjectName(name), object, name) }
        XCTAssertEqual(StoreLayout.attachmentName(id, position: 2, version: 1), "\(id).a2.v1")
        XCTAssertEqual(StoreLayout.attachmentSignatureName(id, position: 2), "\(id).a2.p7s")
        for stranger in ["\(id).a0", "\(id).a01", "\(id).v0", "\(id).a1.v0", "\(id).a1.p7s.v1", "\(id).p7s", "\(id).a1.v1.p7s", "\(id).a", "\(id).x1", "\(id).a1.", "x.a1"] {
            XCTAssertNil(StoreLayout.parseObjectName(stranger), stranger)
        }
    }

    // MARK: Commit

    @discardableResult
    func submit(attachments: [(String, [UInt8])], key: String? = nil) async throws -> IntakeReceipt {
        let store = fixture.store
        let staged = try store.beginDocument(expectedSize: nil)
        try staged.append(SamplePDF.bytes("chính"))
        var files: [StagedDocument] = []
        for (index, (_, bytes)) in attachments.enumerated() {
            let file = try store.beginAttachment(of: staged.id, position: index + 1, expectedSize: Int64(bytes.count))
            try file.append(bytes)
            files.append(file)
        }
        let metadata = DocumentMetadata(recipients: StoreFixture.recipients, subject: "Về việc phụ lục", attachments: attachments.map(\.0))
        return try await store.commit(staged, attachments: files, IntakeRequest(
            fileName: "chính.pdf", metadata: metadata, source: .api, intakeKey: key, cause: "test"))
    }

    func testDocumentIsCommittedWithItsAttachmentsInOneCommit() async throws {
        let pdf = SamplePDF.bytes("phụ lục")
        let sheet = Array("cột 1;cột 2\n".utf8)
        let receipt = try await submit(attachments: [("Phụ lục 1.pdf", pdf), ("Bảng số liệu.xlsx", sheet)])
        let id = receipt.document.id
        let rows = try fixture.store.attachments(id)
        XCTAssertEqual(rows.map(\.fileName), ["Phụ lục 1.pdf", "Bảng số liệu.xlsx"])
        XCTAssertEqual(rows.map(\.position), [1, 2])
        XCTAssertEqual(rows.map(\.size), [Int64(pdf.count), Int64(sheet.count)])
        XCTAssertEqual(rows.map(\.version), [0, 0])
        XCTAssertEqual(rows.map(\.isSigned), [false, false])
        XCTAssertEqual(try Array(Data(contentsOf: URL(fileURLWithPath: fixture.layout.attachmentPath(id, position: 1, version: 0)))), pdf)
        XCTAssertEqual(try POSIXFile.sha256(ofFile: fixture.layout.attachmentPath(id, position: 2, version: 0)).sha256, rows[1].sha256)
        XCTAssertEqual(try fixture.temporaryFiles(), [])
        XCTAssertTrue(try fixture.store.check(ownsStore: true).isClean)
    }

    func testARetryWithTheSameKeyLeavesNoTemporaryFileAndNoSecondCopy() async throws {
        let first = try await submit(attachments: [("a.xlsx", Array("1".utf8))], key: "api:k1")
        let second = try await submit(attachments: [("a.xlsx", Array("1".utf8))], key: "api:k1")
        XCTAssertTrue(second.duplicate)
        XCTAssertEqual(second.document.id, first.document.id)
        XCTAssertEqual(try fixture.temporaryFiles(), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fixture.layout.objectsDirectory).count, 2)
    }

    func testAnEmptyAttachmentRefusesTheWholeDocumentAndLeavesNothing() async throws {
        let before = try FileManager.default.contentsOfDirectory(atPath: fixture.layout.objectsDirectory)
        await assertIntakeError(.emptyDocument) { try await self.submit(attachments: [("a.xlsx", [])]) }
        XCTAssertEqual(try fixture.temporaryFiles(), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: fixture.layout.objectsDirectory), before)
        XCTAssertEqual(try fixture.store.list().count, 0)
    }

    /// The API's view of a document (and `gatewayd show --json`) lists its attachments.
    func testTheDocumentViewListsTheAttachments() async throws {
        let id = try await submit(attachments: [("Phụ lục 1.pdf", SamplePDF.bytes("a")), ("b.xlsx", Array("1".utf8))]).document.id
        let view = try XCTUnwrap(try LocalAPIQueries(store: fixture.store).document(id))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: GatewayJSON.encoder.encode(view)) as? [String: Any])
        let listed = try XCTUnwrap(json["attachments"] as? [[String: Any]])
        XCTAssertEqual(listed.map { $0["file_name"] as? String }, ["Phụ lục 1.pdf", "b.xlsx"])
        XCTAssertEqual(listed.map { $0["position"] as? Int }, [1, 2])
        XCTAssertEqual(((json["metadata"] as? [String: Any])?["attachments"] as? [String]), ["Phụ lục 1.pdf", "b.xlsx"])
        let decoded = try GatewayJSON.decoder.decode(DocumentView.self, from: GatewayJSON.encoder.encode(view))
        XCTAssertEqual(decoded.attachments, view.attachments)

        let plain = try await fixture.submit(SamplePDF.bytes("x"), name: "x.pdf").document.id
        XCTAssertNil(try LocalAPIQueries(store: fixture.store).document(plain)?.attachments, "no empty list")
    }

    // MARK: The check

    func testCheckQuarantinesADocumentWhoseAttachmentIsMissing() async throws {
        let id = try await submit(attachments: [("a.xlsx", Array("1".utf8))]).document.id
        unlink(fixture.layout.attachmentPath(id, position: 1, version: 0))
        let report = try fixture.store.check(ownsStore: true)
        XCTAssertEqual(report.quarantined.map(\.id), [id.description])
        XCTAssertTrue(report.quarantined[0].reason.contains("attachment 1"), report.quarantined[0].reason)
    }

    func testCheckQuarantinesADocumentWhoseAttachmentChanged() async throws {
        let id = try await submit(attachments: [("a.xlsx", Array("1".utf8))]).document.id
        try Data("2".utf8).write(to: URL(fileURLWithPath: fixture.layout.attachmentPath(id, position: 1, version: 0)))
        let report = try fixture.store.check(ownsStore: true)
        XCTAssertEqual(report.quarantined.map(\.id), [id.description])
        XCTAssertTrue(report.quarantined[0].reason.contains("hash"), report.quarantined[0].reason)
    }

    /// Start-up: the staged attachments of a commit that never happened are removed with the rest
    /// of `store/tmp/`, and a transient document whose attachment is gone is quarantined.
    func testStartUpRemovesStagedAttachmentsAndQuarantinesATransientDocumentMissingOne() async throws {
        let staged = try fixture.store.beginDocument(expectedSize: nil)
        try staged.append(SamplePDF.bytes("x"))
        let stagedAttachment = try fixture.store.beginAttachment(of: staged.id, position: 1, expectedSize: nil)
        try stagedAttachment.append(Array("1".utf8))
        let id = try await submit(attachments: [("a.xlsx", Array("1".utf8))]).document.id
        for state in [DocumentState.awaitingSeal, .signed, .queued] { try fixture.store.transition(id, to: state, cause: "test") }
        try fixture.store.transition(id, to: .sending, cause: "test")
        unlink(fixture.layout.attachmentPath(id, position: 1, version: 0))
        let report = try fixture.store.recover()
        XCTAssertEqual(Set(report.temporaryFilesRemoved), ["\(staged.id).part", "\(staged.id).a1.part"])
        XCTAssertEqual(report.quarantined.map(\.id), [id.description])
        XCTAssertTrue(report.quarantined[0].reason.contains("attachment 1 (a.xlsx)"), report.quarantined[0].reason)
        XCTAssertEqual(try fixture.store.document(id)?.state, .quarantined)
        withExtendedLifetime((staged, stagedAttachment)) {}
    }

    func testOrphanAttachmentFilesAreSetAsideAndSignedVersionsKept() async throws {
        let id = try await submit(attachments: [("a.pdf", SamplePDF.bytes("a")), ("b.xlsx", Array("1".utf8))]).document.id
        let layout = fixture.layout
        // Attachment 1 signed (version 1), attachment 2 signed (.p7s), as the seal session commits them.
        try fixture.store.transition(id, to: .awaitingSeal, cause: "test")
        for (position, kind) in [(1, SignedAttachment.Kind.pdfVersion), (2, .detachedSignature)] {
            let row = try fixture.store.attachments(id)[position - 1]
            let temporary = fixture.store.attachmentSigningTemporaryPath(row, kind: kind)
            try Data("signed \(position)".utf8).write(to: URL(fileURLWithPath: temporary))
            let digest = try POSIXFile.sha256(ofFile: temporary)
            try fixture.store.commitAttachmentSignature(SignedAttachment(
                document: id, position: position, fromVersion: 0, kind: kind, temporaryPath: temporary, sha256: digest.sha256,
                size: digest.size, cause: "test"), at: Date())
        }
        let strangers = [
            StoreLayout.attachmentName(id, position: 3, version: 0),   // no such attachment
            StoreLayout.attachmentName(id, position: 1, version: 2),   // newer than the row's
            StoreLayout.attachmentSignatureName(id, position: 1),      // a PDF attachment has no .p7s
            StoreLayout.attachmentName(fixture.store.newDocumentID(), position: 1, version: 0),  // no document
        ]
        for name in strangers { XCTAssertTrue(FileManager.default.createFile(atPath: layout.objectsDirectory + "/" + name, contents: Data("x".utf8))) }
        let report = try fixture.store.check(ownsStore: true)
        XCTAssertEqual(Set(report.orphansMovedAside), Set(strangers))
        XCTAssertEqual(report.quarantined, [])
        for kept in [layout.attachmentPath(id, position: 1, version: 0), layout.attachmentPath(id, position: 1, version: 1),
                     layout.attachmentPath(id, position: 2, version: 0), layout.attachmentSignaturePath(id, position: 2)] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: kept), kept)
        }
        XCTAssertTrue(try fixture.store.check(ownsStore: true).isClean)
    }

    func testAnAttachmentSignatureIsNotCommittedTwiceNorOutsideTheSeal() async throws {
        let id = try await submit(attachments: [("b.xlsx", Array("1".utf8))]).document.id
        func attempt() throws {
            let row = try fixture.store.attachments(id)[0]
            let temporary = fixture.store.attachmentSigningTemporaryPath(row, kind: .detachedSignature)
            try Data("p7s".utf8).write(to: URL(fileURLWithPath: temporary))
            try fixture.store.commitAttachmentSignature(SignedAttachment(
                document: id, position: 1, fromVersion: 0, kind: .detachedSignature, temporaryPath: temporary, sha256: "x", size: 3,
                cause: "test"), at: Date())
        }
        XCTAssertThrowsError(try attempt(), "awaiting_leader: not the seal's turn")
        try fixture.store.transition(id, to: .awaitingSeal, cause: "test")
        try attempt()
        XCTAssertThrowsError(try attempt(), "signed already")
        XCTAssertEqual(try fixture.temporaryFiles(), [], "a refused signature leaves no temporary file")
        XCTAssertEqual(try fixture.store.attachments(id)[0].signatureFile, StoreLayout.attachmentSignatureName(id, position: 1))
    }
}

/// The local API's holding of attachments posted before their document: taken whole by the
/// document that names them, forgotten after their lifetime, bounded.
final class UnitAttachmentUploadsTests: XCTestCase {
    var fixture: StoreFixture!

    override func setUp() async throws { fixture = try StoreFixture() }
    override func tearDown() async throws { fixture.close() }

    func staged(_ text: String) throws -> StagedDocument {
        let file = try fixture.store.beginAttachment(of: fixture.store.newDocumentID(), position: 1, expectedSize: nil)
        try file.append(Array(text.utf8))
        return file
    }

    func testTheDocumentTakesWhatItNamesInItsOrderAndTheRestIsDropped() throws {
        let uploads = AttachmentUploads()
        try uploads.put(try staged("a"), key: "k", name: "a.xlsx")
        try uploads.put(try staged("b"), key: "k", name: "b.xlsx")
        try uploads.put(try staged("stray"), key: "k", name: "stray.xlsx")
        try uploads.put(try staged("other"), key: "other", name: "a.xlsx")
        guard case .failure(let missing) = uploads.take(key: "k", names: ["b.xlsx", "c.xlsx"]) else { return XCTFail() }
        XCTAssertEqual(missing.code, .missingAttachment)
        XCTAssertTrue(missing.messageEn.contains("\"c.xlsx\"") && !missing.messageEn.contains("b.xlsx"), missing.messageEn)
        guard case .success(let taken) = uploads.take(key: "k", names: ["b.xlsx", "a.xlsx"]) else { return XCTFail() }
        XCTAssertEqual(taken.map(\.size), [1, 1])
        XCTAssertEqual(taken.map { $0.path.hasSuffix(".part") }, [true, true])
        XCTAssertEqual(try fixture.temporaryFiles().count, 3, "the stray one discarded, the other key's kept")
        guard case .failure = uploads.take(key: "k", names: ["a.xlsx"]) else { return XCTFail("taken twice") }
    }

    func testAnUploadNotClaimedWithinItsLifetimeIsForgottenAndItsFileRemoved() throws {
        let uploads = AttachmentUploads()
        let start = ContinuousClock.now
        try uploads.put(try staged("a"), key: "k", name: "a.xlsx", now: start)
        guard case .failure = uploads.take(key: "k", names: ["a.xlsx"], now: start + AttachmentUploads.lifetime) else { return XCTFail() }
        XCTAssertEqual(try fixture.temporaryFiles(), [])
    }

    func testAKeyHoldsAtMostTwentyAndAReplacedUploadIsDiscarded() throws {
        let uploads = AttachmentUploads()
        for index in 1...20 { try uploads.put(try staged("\(index)"), key: "k", name: "p\(index).xlsx") }
        XCTAssertThrowsError(try uploads.put(try staged("21"), key: "k", name: "p21.xlsx"))
        try uploads.put(try staged("again"), key: "k", name: "p1.xlsx")
        XCTAssertEqual(try fixture.temporaryFiles().count, 20, "the refused and the replaced are gone")
    }
}
