import DocumentModel
import DocumentSigning
import EdXML
import Foundation
import Signing
import TestSupport
import X509
import Logging
import XCTest
@testable import GatewayCore

/// The verdict on what comes down from the hub (issue 14, first part): packages made here as a
/// province would send them — the envelope XML-signed, the PDF signed by PAdES — by certificates
/// an openssl CA issued, checked against that CA, another one, or none.
final class IncomingVerificationTests: XCTestCase {
    var fixture: StoreFixture!
    var pki: TestPKI!
    var sender: TestPKI.Signer!
    var directory: String!

    override func setUp() async throws {
        fixture = try StoreFixture()
        directory = fixture.directory + "/pki"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        pki = try TestPKI(directory: directory)
        sender = try pki.issue("province", subject: "/CN=UBND tỉnh Quảng Trị/O=UBND tỉnh Quảng Trị/UID=MST:3200000000", key: .p256)
    }

    override func tearDown() async throws { fixture.close() }

    var anchors: [Certificate] { get throws { try DocumentVerifier.trustAnchors(pemFile: pki.root) } }

    /// A package from the province: its PDF signed (or not), the envelope signed (or not).
    func package(signPDF: Bool = true, signEnvelope: Bool = true, tamper: Bool = false) async throws -> String {
        let signer = try SoftwareKeySigner(keyFile: sender.key, chainFile: sender.chain)
        let original = fixture.directory + "/cv-\(UUID().uuidString).pdf"
        try Data(SamplePDF.bytes("Cong van cua tinh")).write(to: URL(fileURLWithPath: original))
        var file = original
        if signPDF {
            file = original + ".signed.pdf"
            _ = try await PAdESSigner.sign(input: original, output: file, signer: signer, algorithm: signer.keyType.algorithms[0])
        }
        if tamper {
            // One byte of the first revision changed after signing: its text, inside the signed range.
            var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            let at = try XCTUnwrap(bytes.firstRange(of: Array("Cong van".utf8))).lowerBound
            bytes[at] = UInt8(ascii: "K")
            try Data(bytes).write(to: URL(fileURLWithPath: file))
        }
        let staged = try fixture.store.beginDocument(expectedSize: nil)
        try staged.append(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        let record = try await fixture.store.commit(staged, IntakeRequest(
            fileName: "Công văn 9.pdf", metadata: DocumentMetadata(recipients: StoreFixture.recipients, subject: "Về việc kiểm tra đê điều",
                                                                  number: "9", notation: "UBND-VP", signed: true),
            source: .api, intakeKey: nil, cause: "test")).document
        let province = OutboundPackager(agencyCode: AgencyCode("000.00.00.H41")!, agencyName: "UBND tỉnh Quảng Trị")
        let path = fixture.directory + "/down-\(UUID().uuidString).edxml"
        try await PackageWriter.write(try province.package(for: record, now: Date()),
                                      attachmentFiles: [fixture.layout.objectPath(record.id, version: record.version)],
                                      to: path, signer: signEnvelope ? signer : nil)
        return path
    }

    func verdict(_ path: String, anchors: [Certificate]) async -> IncomingVerdict {
        let scratch = fixture.directory + "/scratch-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        return await IncomingVerifier(anchors: anchors, revocation: nil).verify(packagePath: path, scratch: scratch, now: Date())
    }

    func testSignedByATrustedSenderIsValid() async throws {
        let verdict = await verdict(try await package(), anchors: try anchors)
        XCTAssertEqual(verdict.outcome, .valid, verdict.lines.joined(separator: "\n"))
        XCTAssertEqual(verdict.findings.map(\.outcome), [.valid, .valid], "the envelope and the PDF's signature")
        XCTAssertEqual(verdict.lines.first, "Chữ ký số / Signatures: hợp lệ / valid")
    }

    func testWithoutAnchorsNothingIsShownAsValid() async throws {
        let verdict = await verdict(try await package(), anchors: [])
        XCTAssertEqual(verdict.outcome, .unknown, verdict.lines.joined(separator: "\n"))
        XCTAssertTrue(verdict.findings.allSatisfy { $0.outcome == .unknown }, verdict.lines.joined(separator: "\n"))
        XCTAssertTrue(verdict.lines.joined().contains("[trust] anchors"))
    }

    func testUnderAnotherRootIsInvalid() async throws {
        let otherDirectory = directory + "/other"
        try FileManager.default.createDirectory(atPath: otherDirectory, withIntermediateDirectories: true)
        let other = try DocumentVerifier.trustAnchors(pemFile: try TestPKI(directory: otherDirectory).root)
        let verdict = await verdict(try await package(), anchors: other)
        XCTAssertEqual(verdict.outcome, .invalid)
        XCTAssertTrue(verdict.findings.allSatisfy { $0.reason?.contains("gốc tin cậy") ?? false }, verdict.lines.joined(separator: "\n"))
    }

    func testAPDFChangedAfterSigningIsInvalidWithThatReason() async throws {
        let verdict = await verdict(try await package(tamper: true), anchors: try anchors)
        XCTAssertEqual(verdict.outcome, .invalid)
        let pdf = try XCTUnwrap(verdict.findings.first { $0.file == "Công văn 9.pdf" })
        XCTAssertEqual(pdf.outcome, .invalid)
        XCTAssertEqual(pdf.reason, "tệp đã bị sửa sau khi ký / the file was changed after it was signed")
        // What thong-tin.txt and `gatewayd inbox` say: a sentence a clerk acts on, English below.
        XCTAssertTrue(verdict.lines.contains("  Chữ ký của UBND tỉnh Quảng Trị (MST:3200000000) trên tệp \"Công văn 9.pdf\": không hợp lệ — tệp đã bị sửa sau khi ký"),
                      verdict.lines.joined(separator: "\n"))
        XCTAssertTrue(verdict.lines.contains("    (UBND tỉnh Quảng Trị (MST:3200000000)'s signature on \"Công văn 9.pdf\": invalid — the file was changed after it was signed)"),
                      verdict.lines.joined(separator: "\n"))
    }

    func testAnUnsignedEnvelopeOrFileIsInvalid() async throws {
        let unsigned = await verdict(try await package(signPDF: false, signEnvelope: false), anchors: try anchors)
        XCTAssertEqual(unsigned.outcome, .invalid)
        XCTAssertEqual(unsigned.findings.compactMap(\.reason), [
            "phong bì không có chữ ký số của nơi gửi / the envelope is not signed by its sender",
            "tệp chưa được ký số / the file is not digitally signed",
        ])
    }

    func testABrokenEnvelopeSignatureIsInvalid() async throws {
        let path = try await package()
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "Về việc kiểm tra đê điều", with: "Về việc kiểm tra đê điều (sửa)")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let verdict = await verdict(path, anchors: try anchors)
        XCTAssertEqual(verdict.outcome, .invalid)
        XCTAssertTrue(verdict.findings.first?.reason?.hasPrefix("chữ ký phong bì sai") ?? false, verdict.lines.joined(separator: "\n"))
    }

    func testOnlyCouldNotBeCheckedVerdictsOlderThanTheIntervalAreRechecked() throws {
        let now = Date()
        func record(_ id: Int64, _ outcome: IncomingVerdict.Outcome, checked: Date) -> InboundRecord {
            InboundRecord(hubID: id, kind: "document", packageKey: "k\(id)", sender: "000.00.00.H41", sha256: "", size: 0, storedAt: checked,
                          ackedAt: checked, statusSentAt: nil, statusReceipt: nil, folder: nil,
                          verdict: IncomingVerdict(findings: [.init(file: "a.pdf", signer: nil, outcome: outcome, reason: nil)], checkedAt: checked))
        }
        try fixture.store.saveInbound(record(1, .unknown, checked: now.addingTimeInterval(-7200)))
        try fixture.store.saveInbound(record(2, .unknown, checked: now.addingTimeInterval(-60)))
        try fixture.store.saveInbound(record(3, .valid, checked: now.addingTimeInterval(-7200)))
        try fixture.store.saveInbound(record(4, .invalid, checked: now.addingTimeInterval(-7200)))
        XCTAssertEqual(try fixture.store.inboundToRecheck(before: now.addingTimeInterval(-3600)).map(\.hubID), [1])
        XCTAssertEqual(try fixture.store.inboundToRecheck(before: now).map(\.hubID), [1, 2], "the link came back: every unknown one")
    }

    /// A verdict that could not be checked, checked again and found invalid: the row, the folder's
    /// name and its `thong-tin.txt` say so, with the history line.
    func testARecheckThatFindsADocumentInvalidMarksItsFolder() async throws {
        let hubID: Int64 = 9
        try FileManager.default.copyItem(atPath: try await package(), toPath: fixture.layout.inboxPath(hubID: hubID))
        let inbox = fixture.directory + "/inbox"
        let name = "2026-12-05 9-UBND-VP UBND tỉnh Quảng Trị"
        try FileManager.default.createDirectory(atPath: inbox + "/" + name, withIntermediateDirectories: true)
        let earlier = IncomingVerdict(findings: [.init(file: "Công văn 9.pdf", signer: nil, outcome: .unknown, reason: "OCSP")],
                                      checkedAt: Date().addingTimeInterval(-7200))
        try "Nơi gửi / From: UBND tỉnh Quảng Trị (000.00.00.H41)\n\(InboxFolder.verdictText(earlier))"
            .write(toFile: inbox + "/" + name + "/thong-tin.txt", atomically: true, encoding: .utf8)
        try fixture.store.saveInbound(InboundRecord(hubID: hubID, kind: "document", packageKey: "k", sender: "000.00.00.H41", sha256: "", size: 0,
                                                    storedAt: Date(), ackedAt: Date(), statusSentAt: Date(), statusReceipt: nil, folder: name,
                                                    verdict: earlier))
        // Checked again against a root that did not issue the sender's certificate: invalid.
        let otherDirectory = directory + "/other"
        try FileManager.default.createDirectory(atPath: otherDirectory, withIntermediateDirectories: true)
        var settings = RelayService.Settings(agencyCode: AgencyCode("000.00.20.H13")!, inboxFolder: inbox)
        settings.verifier = IncomingVerifier(anchors: try DocumentVerifier.trustAnchors(pemFile: try TestPKI(directory: otherDirectory).root), revocation: nil)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let box = try BoxPKI(directory: fixture.directory)
        let context = RelayContext(settings: settings, store: fixture.store, hub: InMemoryHub(),
                                   boxSigner: try RelayContext.boxSigner(keyFile: box.key.key, certificateFile: box.key.chain),
                                   checkReceipt: InMemoryHub.checkReceipt, now: { Date() }, draw: { 0.5 }, logger: logger)
        await InboxService(context: context).recheckVerdicts()

        let record = try XCTUnwrap(try fixture.store.inbound(hubID: hubID))
        XCTAssertEqual(record.verdict?.outcome, .invalid)
        XCTAssertEqual(record.verdict?.history.count, 1)
        XCTAssertEqual(record.folder, name + InboxFolder.invalidMark)
        let text = try String(contentsOfFile: inbox + "/" + name + InboxFolder.invalidMark + "/thong-tin.txt", encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("Nơi gửi / From: UBND tỉnh Quảng Trị (000.00.00.H41)\nChữ ký số / Signatures: không hợp lệ / invalid"), text)
        XCTAssertTrue(text.contains("chưa kiểm tra được / could not be checked → không hợp lệ / invalid (kiểm tra lại / re-checked)"), text)
        XCTAssertFalse(text.contains("OCSP"), "the old findings are replaced: \(text)")
    }

    func testARecheckKeepsItsHistory() {
        let unknown = IncomingVerdict(findings: [.init(file: "a.pdf", signer: nil, outcome: .unknown, reason: "OCSP")], checkedAt: Date())
        let valid = IncomingVerdict(findings: [.init(file: "a.pdf", signer: nil, outcome: .valid, reason: nil)], checkedAt: Date()).replacing(unknown)
        XCTAssertEqual(valid.history.count, 1)
        XCTAssertTrue(valid.history[0].hasSuffix("chưa kiểm tra được / could not be checked → hợp lệ / valid (kiểm tra lại / re-checked)"))
        XCTAssertEqual(valid.replacing(valid).history, valid.history, "no line when nothing changed")
    }
}
