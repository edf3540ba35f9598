import DocumentModel
import DocumentSigning
import Foundation
import SigningPolicy
import TestSupport
import TrustHTTP
import X509
import XCTest
@testable import GatewayCore

/// `"signed": true` checked, not believed (issue 14): PDFs signed here by certificates an openssl
/// CA issued — this commune's organization, its configured leader, another organization, a
/// leader under another root — judged as the doors judge them.
final class SignedClaimCheckTests: XCTestCase {
    var directory: String!
    var pki: TestPKI!
    var organization: TestPKI.Signer!
    var leader: TestPKI.Signer!
    var otherOrganization: TestPKI.Signer!

    static let leaderIdentity = SubjectIdentifier("CCCD:001085012345")!

    override func setUp() async throws {
        directory = NSTemporaryDirectory() + "claims-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        pki = try TestPKI(directory: directory)
        organization = try pki.issue("organization", subject: "/CN=UBND xã Hòa Tiến/O=UBND xã Hòa Tiến/UID=MST:0101234567", key: .p256)
        leader = try pki.issue("leader", subject: "/CN=Nguyễn Văn An/UID=CCCD:001085012345", key: .p256)
        otherOrganization = try pki.issue("other", subject: "/CN=UBND xã Hòa Phong/O=UBND xã Hòa Phong/UID=MST:0109999999", key: .p256)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func check(anchors: [Certificate]? = nil) throws -> SignedClaimCheck {
        SignedClaimCheck(anchors: try anchors ?? DocumentVerifier.trustAnchors(pemFile: pki.root), revocation: nil,
                         leaders: [ConfiguredLeader(name: "Nguyễn Văn An", title: "Chủ tịch", identity: Self.leaderIdentity)],
                         agency: SigningAgency(name: "UBND xã Hòa Tiến", taxCode: "0101234567"))
    }

    func pdf(_ name: String, signedBy signers: [TestPKI.Signer]) async throws -> SignedClaimCheck.File {
        let path = directory + "/" + name
        try await SignedSamplePDF.write(path, text: "Quyet dinh \(name)", signedBy: signers)
        return .init(path: path, name: name)
    }

    /// The refusal's words, or a failure when the claim passed.
    func refusal(_ check: SignedClaimCheck, _ document: SignedClaimCheck.File, attachments: [SignedClaimCheck.File] = [],
                 file: StaticString = #filePath, line: UInt = #line) async -> String {
        do {
            let outcome = try await check.check(document: document, attachments: attachments)
            XCTFail("accepted as \(outcome)", file: file, line: line)
            return ""
        } catch {
            XCTAssertEqual(error.code, .signedClaimRefused, file: file, line: line)
            return error.description
        }
    }

    func testSealedByThisCommuneIsTakenAsSigned() async throws {
        let outcome = try await check().check(document: try await pdf("qd.pdf", signedBy: [leader, organization]), attachments: [])
        XCTAssertEqual(outcome, .init(sealed: true, signers: ["Nguyễn Văn An (CCCD:001085012345)", "UBND xã Hòa Tiến (MST:0101234567)"]))
        let sealOnly = try await check().check(document: try await pdf("tb.pdf", signedBy: [organization]), attachments: [])
        XCTAssertEqual(sealOnly, .init(sealed: true, signers: ["UBND xã Hòa Tiến (MST:0101234567)"]))
    }

    func testALeadersSignatureAloneWaitsForTheSeal() async throws {
        let document = try await pdf("qd.pdf", signedBy: [leader])
        let outcome = try await check().check(document: document, attachments: [])
        XCTAssertEqual(outcome, .init(sealed: false, signers: ["Nguyễn Văn An (CCCD:001085012345)"]))
        // The doors' form of it: the metadata now asks for the organization's signature only.
        var metadata = DocumentMetadata(recipients: [AgencyCode("000.00.00.H41")!], signed: true)
        let note = try await check().admit(&metadata, document: document, attachments: [])
        XCTAssertFalse(metadata.signed)
        XCTAssertEqual(metadata.signatures, [SigningRole.organization])
        XCTAssertEqual(DocumentState.afterIntake(metadata), .awaitingSeal)
        XCTAssertTrue(note.contains("seal is still to come") && note.contains("checked at intake: Nguyễn Văn An"), note)
    }

    func testUnsignedTamperedAndUntrustedAreRefusedWithTheirReasons() async throws {
        let unsigned = try await pdf("unsigned.pdf", signedBy: [])
        let text = await refusal(try check(), unsigned)
        XCTAssertTrue(text.contains("chưa được ký số") && text.contains("is not digitally signed"), text)
        XCTAssertTrue(text.contains("Văn bản chưa được tiếp nhận") && text.contains("It was not accepted"), text)

        let tampered = try await pdf("tampered.pdf", signedBy: [leader, organization])
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: tampered.path)))
        let at = try XCTUnwrap(bytes.firstRange(of: Array("Quyet dinh".utf8))).lowerBound
        bytes[at] = UInt8(ascii: "K")
        try Data(bytes).write(to: URL(fileURLWithPath: tampered.path))
        let changed = await refusal(try check(), tampered)
        XCTAssertTrue(changed.contains("tệp đã bị sửa sau khi ký") && changed.contains("the file was changed after it was signed"), changed)
        XCTAssertTrue(changed.contains("Nguyễn Văn An"), "names whose signature failed: \(changed)")
    }

    func testUnderAnotherRootIsRefused() async throws {
        let otherDirectory = directory + "/other"
        try FileManager.default.createDirectory(atPath: otherDirectory, withIntermediateDirectories: true)
        let otherPKI = try TestPKI(directory: otherDirectory, subject: "/CN=Another Root")
        let stranger = try otherPKI.issue("organization", subject: "/CN=UBND xã Hòa Tiến/O=UBND xã Hòa Tiến/UID=MST:0101234567", key: .p256)
        let text = await refusal(try check(), try await pdf("qd.pdf", signedBy: [stranger]))
        XCTAssertTrue(text.contains("không dẫn tới gốc tin cậy") && text.contains("does not chain to a trusted root"), text)
    }

    func testWithoutAnchorsEveryClaimIsRefused() async throws {
        let text = await refusal(try check(anchors: []), try await pdf("qd.pdf", signedBy: [leader, organization]))
        XCTAssertTrue(text.contains("[trust] anchors") && text.contains("tell the technician"), text)
    }

    func testAnotherOrganizationsSealIsNotOurs() async throws {
        let text = await refusal(try check(), try await pdf("qd.pdf", signedBy: [otherOrganization]))
        XCTAssertTrue(text.contains("MST:0101234567") && text.contains("UBND xã Hòa Phong"), text)
    }

    /// A revoked signer is refused; a responder out of reach is not (the box works offline), and
    /// the history note says the revocation was not confirmed.
    func testARevokedSealIsRefusedAnUnreachableResponderIsNoted() async throws {
        let port = freeLoopbackPort()
        let extensions = TestPKI.signingExtensions(ocsp: "http://127.0.0.1:\(port)")
        let seal = try pki.issue("seal-ocsp", subject: "/CN=UBND xã Hòa Tiến/O=UBND xã Hòa Tiến/UID=MST:0101234567", key: .p256, extensions: extensions)
        let document = try await pdf("qd.pdf", signedBy: [seal])
        let anchors = try DocumentVerifier.trustAnchors(pemFile: pki.root)
        let asking = SignedClaimCheck(anchors: anchors, revocation: RevocationChecker(fetcher: AsyncHTTPTrustFetcher()), leaders: [],
                                      agency: SigningAgency(name: "UBND xã Hòa Tiến", taxCode: "0101234567"))

        let offline = try await asking.check(document: document, attachments: [])
        XCTAssertTrue(offline.sealed)
        XCTAssertEqual(offline.notes.count, 1)
        XCTAssertTrue(offline.notes[0].contains("could not be confirmed"), "\(offline.notes)")

        let responder = try pki.startOCSPResponder(indexLines: [try pki.indexLine(for: seal.chain, revoked: true)], port: port)
        defer { responder.stop() }
        let text = await refusal(asking, document)
        XCTAssertTrue(text.contains("THU HỒI") && text.contains("REVOKED"), text)
    }

    func testAttachmentsOfASealedDocumentMustBeSignedToo() async throws {
        let document = try await pdf("qd.pdf", signedBy: [leader, organization])
        let unsignedAttachment = try await pdf("phu-luc.pdf", signedBy: [])
        let text = await refusal(try check(), document, attachments: [unsignedAttachment])
        XCTAssertTrue(text.contains("\"phu-luc.pdf\"") && text.contains("is not digitally signed"), text)
        let signedAttachment = try await pdf("phu-luc-2.pdf", signedBy: [organization])
        let sealed = try await check().check(document: document, attachments: [signedAttachment])
        XCTAssertTrue(sealed.sealed)
        // Waiting for the seal, an unsigned attachment is expected: the seal session signs it.
        let leaders = try await pdf("qd-2.pdf", signedBy: [leader])
        let waiting = try await check().check(document: leaders, attachments: [unsignedAttachment])
        XCTAssertFalse(waiting.sealed)
    }
}
