import DocumentModel
import DocumentSigning
import DurableFiles
import EdXML
import Foundation
import Logging
import SigningPolicy
import TestSupport
import XCTest
@testable import GatewayCore

/// Attachments in the seal session (SigningStageTests' fixture and key-file tokens): the
/// organization signs each one — a PDF by PAdES (a new version, valid with our verifier), another
/// file by a `.p7s` that openssl verifies — before the main document's seal; the leader signs
/// none; a token pulled among the attachments leaves the document `awaiting_seal` and the next
/// session signs only what is left.
extension SigningStageTests {
    static let fontPath = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"

    func submitWithAttachments(_ text: String, signatures: [SigningRole] = [.organization]) async throws -> DocumentID {
        let store = fixture.store
        let staged = try store.beginDocument(expectedSize: nil)
        try staged.append(SamplePDF.bytes(text))
        let files: [(String, [UInt8])] = [("Phụ lục 1.pdf", SamplePDF.bytes("Phu luc 1")), ("Bảng số liệu.xlsx", Array("cột A;cột B\n".utf8))]
        var staging: [StagedDocument] = []
        for (index, file) in files.enumerated() {
            let attachment = try store.beginAttachment(of: staged.id, position: index + 1, expectedSize: nil)
            try attachment.append(file.1)
            staging.append(attachment)
        }
        return try await store.commit(staged, attachments: staging, IntakeRequest(
            fileName: "\(text).pdf",
            metadata: DocumentMetadata(recipients: StoreFixture.recipients, subject: "Về việc \(text)", signatures: signatures,
                                       attachments: files.map(\.0)),
            source: .api, intakeKey: nil, cause: "test")).document.id
    }

    var settingsWithFont: SigningSettings {
        get throws {
            var settings = settings
            settings.font = try TrueTypeFont(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: Self.fontPath))))
            return settings
        }
    }

    func testTheSealSignsEveryAttachmentBeforeTheDocumentIsSigned() async throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.fontPath), "needs fonts-liberation2")
        let tokens = KeyFileTokens(["seal": try organizationCard()])
        let id = try await submitWithAttachments("có phụ lục")
        let status = try await run(stage(tokens, settings: try settingsWithFont), .organization, reader: "seal")
        XCTAssertEqual(status.results.map(\.outcome), [.signed])
        XCTAssertEqual(tokens.card("seal")?.signatures, 3, "two attachments and the document")
        let record = try XCTUnwrap(try fixture.store.document(id))
        XCTAssertEqual(record.state, .signed)
        let attachments = try fixture.store.attachments(id)
        XCTAssertEqual(attachments.map(\.isSigned), [true, true])

        // The PDF attachment: version 1, signed in the attachment role with the number, valid.
        XCTAssertEqual(attachments[0].version, 1)
        XCTAssertNil(attachments[0].signatureFile)
        let signedPDF = fixture.layout.attachmentPath(id, position: 1, version: 1)
        XCTAssertEqual(try POSIXFile.sha256(ofFile: signedPDF).sha256, attachments[0].sha256)
        XCTAssertTrue(FileManager.default.fileExists(atPath: fixture.layout.attachmentPath(id, position: 1, version: 0)), "the original kept")
        let report = try await DocumentVerifier.verify(path: signedPDF, trustRoots: try DocumentVerifier.trustAnchors(pemFile: pki.root))
        XCTAssertEqual(report.signatures.count, 1)
        XCTAssertTrue(report.allValid, "\(report.signatures.map { ($0.verdict, $0.checks.filter { $0.outcome != .passed }) })")
        // The signature dictionary's /Reason, as written (UTF-16BE in hex): the attachment role and the number.
        let reason = FileSigning.Role.attachment.reason + " — Số 01/QĐ-UBND"
        let hex = "FEFF" + reason.utf16.map { String(format: "%04X", $0) }.joined()
        let pdfText = String(decoding: try Data(contentsOf: URL(fileURLWithPath: signedPDF)), as: UTF8.self)
        XCTAssertTrue(pdfText.contains("<" + hex), "the attachment role's reason with the number")
        if FileManager.default.fileExists(atPath: "/usr/bin/pdfsig") {
            let checked = runProgram("/usr/bin/pdfsig", [signedPDF])
            XCTAssertTrue(checked.out.contains("Signature is Valid"), checked.out + checked.err)
        }

        // The other file: unchanged, with a .p7s that openssl verifies against the CA.
        XCTAssertEqual(attachments[1].version, 0)
        XCTAssertEqual(attachments[1].signatureFile, StoreLayout.attachmentSignatureName(id, position: 2))
        let p7s = fixture.layout.attachmentSignaturePath(id, position: 2)
        XCTAssertEqual(try POSIXFile.sha256(ofFile: p7s).sha256, attachments[1].signatureSha256)
        let verified = runProgram("/usr/bin/openssl", ["cms", "-verify", "-binary", "-inform", "DER", "-in", p7s,
                                                       "-content", fixture.layout.attachmentPath(id, position: 2, version: 0),
                                                       "-CAfile", pki.root, "-purpose", "any", "-out", "/dev/null"])
        XCTAssertEqual(verified.status, 0, verified.err)

        // The history says each, before the seal.
        let causes = try fixture.store.history(id).map(\.cause)
        let first = try XCTUnwrap(causes.firstIndex { $0.contains("Phụ lục 1.pdf") })
        let second = try XCTUnwrap(causes.firstIndex { $0.contains("Bảng số liệu.xlsx") && $0.contains(".p7s") })
        let seal = try XCTUnwrap(causes.firstIndex { $0.contains("đóng dấu") })
        XCTAssertLessThan(first, second)
        XCTAssertLessThan(second, seal)
        XCTAssertTrue(try fixture.store.check(ownsStore: true).isClean)
    }

    func testTheLeaderSignsNoAttachment() async throws {
        let tokens = KeyFileTokens(["leader": try leaderCard()])
        let id = try await submitWithAttachments("lãnh đạo", signatures: [.leader, .organization])
        let status = try await run(stage(tokens), .leader, reader: "leader")
        XCTAssertEqual(status.results.map(\.outcome), [.signed])
        XCTAssertEqual(tokens.card("leader")?.signatures, 1, "the document only")
        XCTAssertEqual(try fixture.store.attachments(id).map(\.isSigned), [false, false])
        XCTAssertEqual(try fixture.store.document(id)?.state, .awaitingSeal)
    }

    /// An attachment that cannot be signed (it no longer parses as a PDF) is its document's
    /// result, marked with the reason; the document is not sealed and the batch goes on.
    func testAnAttachmentThatCannotBeSignedLeavesItsDocumentAwaitingTheSealWithTheReason() async throws {
        let tokens = KeyFileTokens(["seal": try organizationCard()])
        let broken = try await submitWithAttachments("hỏng")
        let fine = try await submit("tốt", signatures: [.organization])
        try Data("%PDF-1.4 no longer a PDF".utf8).write(to: URL(fileURLWithPath: fixture.layout.attachmentPath(broken, position: 1, version: 0)))
        let status = try await run(stage(tokens), .organization, reader: "seal", documents: [broken, fine])
        XCTAssertEqual(status.results.map(\.outcome), [.refused, .signed])
        let record = try XCTUnwrap(try fixture.store.document(broken))
        XCTAssertEqual(record.state, .awaitingSeal)
        XCTAssertEqual(record.version, 0)
        XCTAssertTrue(record.stateReason?.contains("Phụ lục 1.pdf") ?? false, record.stateReason ?? "no reason")
        XCTAssertEqual(try fixture.store.attachments(broken).map(\.isSigned), [false, false])
        XCTAssertEqual(try fixture.temporaryFiles(), [])
    }

    /// The token pulled after the first attachment: the document keeps its number and stays
    /// `awaiting_seal` with one attachment signed; the next session signs the second attachment
    /// and the seal, never the first again.
    func testATokenPulledAmongTheAttachmentsLeavesAConsistentDocumentAndTheNextSessionFinishes() async throws {
        var card = try organizationCard()
        card.pulledAfter = 1
        let tokens = KeyFileTokens(["seal": card])
        let id = try await submitWithAttachments("rút thẻ")
        let stage = stage(tokens)
        let first = try await run(stage, .organization, reader: "seal")
        XCTAssertEqual(first.stopCode, "token_removed")
        XCTAssertEqual(first.results.map(\.outcome), [.notSigned])
        var record = try XCTUnwrap(try fixture.store.document(id))
        XCTAssertEqual(record.state, .awaitingSeal)
        XCTAssertEqual(record.version, 0, "the main document untouched")
        XCTAssertEqual(record.registerNumber?.number, 1)
        var attachments = try fixture.store.attachments(id)
        XCTAssertEqual(attachments.map(\.isSigned), [true, false])
        let firstSigned = try XCTUnwrap(attachments[0].signedAt)
        XCTAssertEqual(try fixture.temporaryFiles(), [], "no half-made signature left")
        XCTAssertTrue(try fixture.store.check(ownsStore: true).isClean)

        tokens.cards.withLock { $0["seal"]?.pulledAfter = nil }
        let second = try await run(stage, .organization, reader: "seal")
        XCTAssertEqual(second.results.map(\.outcome), [.signed])
        XCTAssertEqual(second.results.first?.number, "01/QĐ-UBND", "the same number")
        XCTAssertEqual(tokens.card("seal")?.signatures, 3, "1 before the pull, then the second attachment and the seal")
        record = try XCTUnwrap(try fixture.store.document(id))
        XCTAssertEqual(record.state, .signed)
        attachments = try fixture.store.attachments(id)
        XCTAssertEqual(attachments.map(\.isSigned), [true, true])
        XCTAssertEqual(attachments[0].signedAt, firstSigned, "the first attachment not signed again")
        XCTAssertEqual(attachments[0].version, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.layout.attachmentPath(id, position: 1, version: 2)))
        XCTAssertEqual(try fixture.store.register(year: OutgoingRegister.year(of: Date())).count, 1)
    }

    /// The seal session's envelope (OutboundPackager.queue, as the daemon wires it): the main
    /// document and every attachment in their signed versions, the `.p7s` after its file, each
    /// with its content type; the whole package signed by the organization's token.
    func testTheSealedPackageCarriesTheAttachmentsAndTheSignature() async throws {
        let tokens = KeyFileTokens(["seal": try organizationCard()])
        let id = try await submitWithAttachments("gói tin")
        let packager = OutboundPackager(agencyCode: AgencyCode("000.00.20.H14")!, agencyName: "UBND xã Hòa Tiến")
        let store = fixture.store
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let quiet = logger
        let stage = SigningStage(store: store, tokens: tokens, settings: settings, environment: SigningEnvironment(clockSynchronised: { true }),
                                 logger: quiet, afterSeal: { document, signer in
                                     _ = try await packager.queue(document.id, signer: signer, store: store, now: Date(), logger: quiet)
                                 })
        let status = try await run(stage, .organization, reader: "seal")
        XCTAssertEqual(status.results.map(\.outcome), [.signed])
        let record = try XCTUnwrap(try store.document(id))
        XCTAssertEqual(record.state, .queued)

        let unpacked = fixture.directory + "/unpacked"
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        let read = try await PackageReader.read(path: fixture.layout.packagePath(id), unpackTo: unpacked, checkSignatures: true,
                                                trustRoots: try DocumentVerifier.trustAnchors(pemFile: pki.root))
        XCTAssertEqual(read.findings, [])
        XCTAssertEqual(read.signatures?.map(\.outcome), [.valid])
        XCTAssertEqual(read.signatures?.map(\.trust), [.trusted])
        XCTAssertEqual(read.attachments.map(\.info.name), ["gói tin.pdf", "Phụ lục 1.pdf", "Bảng số liệu.xlsx", "Bảng số liệu.xlsx.p7s"])
        XCTAssertEqual(read.attachments.map(\.info.contentType), [
            "application/pdf", "application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/pkcs7-signature",
        ])
        XCTAssertEqual(Set(read.attachments.map(\.info.contentId)).count, 4)
        let attachments = try store.attachments(id)
        let expected = [
            fixture.layout.objectPath(id, version: record.version),
            fixture.layout.attachmentPath(id, position: 1, version: 1),
            fixture.layout.attachmentPath(id, position: 2, version: 0),
            fixture.layout.attachmentSignaturePath(id, position: 2),
        ]
        XCTAssertEqual(attachments[0].version, 1)
        for (received, stored) in zip(read.attachments, expected) {
            let path = try XCTUnwrap(received.path)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), try Data(contentsOf: URL(fileURLWithPath: stored)), received.info.name)
        }
    }
}
