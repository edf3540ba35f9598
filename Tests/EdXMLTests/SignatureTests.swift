import EdXML
import Foundation
import TestSupport
import XCTest

/// Our signatures judged by xmlsec1 (an independent XMLDSig implementation) and our checker
/// judged on signatures xmlsec1 made, including legacy RSA-SHA1 ones.
final class SignatureTests: XCTestCase {
    let xmlsec1 = "/usr/bin/xmlsec1"
    let xmllint = "/usr/bin/xmllint"

    private func signedPackage(ecdsa: Bool) async throws -> (pki: Fixtures.PKI, path: String, attachment: URL) {
        let pki = try Fixtures.makePKI(ecdsa: ecdsa)
        let attachment = pki.directory.appendingPathComponent("công văn.pdf")
        try Fixtures.binaryFile(at: attachment, count: 300_000)
        let package = Fixtures.document(attachments: [AttachmentInfo(contentId: "9f1c", name: "công văn.pdf", contentType: "application/pdf")])
        let path = pki.directory.appendingPathComponent("signed.edxml").path
        try await PackageWriter.write(package, attachmentFiles: [attachment.path], to: path, signer: try pki.signer())
        return (pki, path, attachment)
    }

    func testRSASignatureVerifiesWithXmlsec1AndOurselves() async throws {
        try await checkOurSignature(ecdsa: false, method: "rsa-sha256")
    }

    func testECDSASignatureVerifiesWithXmlsec1AndOurselves() async throws {
        try await checkOurSignature(ecdsa: true, method: "ecdsa-sha256")
    }

    private func checkOurSignature(ecdsa: Bool, method: String) async throws {
        try XCTSkipUnless(Fixtures.toolAvailable(xmlsec1), "needs xmlsec1 (apt-get install xmlsec1)")
        let (pki, path, _) = try await signedPackage(ecdsa: ecdsa)
        let verdict = runProgram(xmlsec1, ["--verify", "--trusted-pem", pki.rootPEM, path])
        XCTAssertEqual(verdict.status, 0, "xmlsec1: \(verdict.err)")
        XCTAssertTrue(verdict.err.contains("OK"), verdict.err)

        let roots = try SignatureVerifier.certificates(fromPEM: String(contentsOfFile: pki.rootPEM, encoding: .utf8))
        let result = try await PackageReader.read(path: path, checkSignatures: true, trustRoots: roots)
        let check = try XCTUnwrap(result.signatures?.first)
        XCTAssertEqual(check.outcome, .valid, "\(check.reasons)")
        XCTAssertEqual(check.trust, .trusted, check.trustDetail ?? "")
        XCTAssertTrue(check.signatureMethod?.hasSuffix(method) == true)
        XCTAssertTrue(check.signer?.contains("Nguyễn Thị Hương") == true, check.signer ?? "")

        // The structure, checked against the schema written from the documented structure.
        if Fixtures.toolAvailable(xmllint) {
            let schema = runProgram(xmllint, ["--noout", "--schema", Fixtures.samples.appendingPathComponent("edxml.xsd").path, path])
            XCTAssertEqual(schema.status, 0, schema.err)
        }
    }

    func testTamperedAttachmentIsInvalidForBoth() async throws {
        try XCTSkipUnless(Fixtures.toolAvailable(xmlsec1), "needs xmlsec1")
        let (pki, path, _) = try await signedPackage(ecdsa: false)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        // Change one base64 character deep inside the attachment: still valid base64, other bytes.
        let encoded = try XCTUnwrap(text.range(of: "<ContentTransferEncoded>"))
        let index = text.index(encoded.upperBound, offsetBy: 1000)
        let replacement: Character = text[index] == "A" ? "B" : "A"
        text.replaceSubrange(index...index, with: String(replacement))
        let tampered = pki.directory.appendingPathComponent("tampered.edxml").path
        try text.write(toFile: tampered, atomically: true, encoding: .utf8)

        XCTAssertNotEqual(runProgram(xmlsec1, ["--verify", "--trusted-pem", pki.rootPEM, tampered]).status, 0)
        let result = try await PackageReader.read(path: tampered, checkSignatures: true)
        XCTAssertEqual(result.signatures?.first?.outcome, .invalid)
        XCTAssertTrue(result.signatures?.first?.reasons.first?.contains("digest mismatch") == true, "\(String(describing: result.signatures))")
    }

    func testTamperedSubjectIsInvalid() async throws {
        let (pki, path, _) = try await signedPackage(ecdsa: true)
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "kế hoạch", with: "ke hoach")
        let tampered = pki.directory.appendingPathComponent("tampered.edxml").path
        try text.write(toFile: tampered, atomically: true, encoding: .utf8)
        let result = try await PackageReader.read(path: tampered, checkSignatures: true)
        XCTAssertEqual(result.signatures?.first?.outcome, .invalid)
    }

    func testAnotherRootIsNotTrusted() async throws {
        let (_, path, _) = try await signedPackage(ecdsa: false)
        let other = try Fixtures.makePKI(ecdsa: false)
        let roots = try SignatureVerifier.certificates(fromPEM: String(contentsOfFile: other.rootPEM, encoding: .utf8))
        let result = try await PackageReader.read(path: path, checkSignatures: true, trustRoots: roots)
        XCTAssertEqual(result.signatures?.first?.outcome, .valid)
        XCTAssertEqual(result.signatures?.first?.trust, .untrusted)
        XCTAssertNil(result.signatures?.first?.trustDetail, "no chain to any anchor: no empty detail to show")
    }

    func testSignedStatusPackageVerifiesWithXmlsec1() async throws {
        try XCTSkipUnless(Fixtures.toolAvailable(xmlsec1), "needs xmlsec1")
        let pki = try Fixtures.makePKI(ecdsa: false)
        let status = StatusPackage(from: Organization(organId: "000.00.00.H41"),
                                   responseFor: ResponseFor(organId: "000.00.20.H13", documentId: "000.00.20.H13,2025/07/15,125/QĐ-UBND"),
                                   statusCode: .accepted, description: "Đã vào sổ", timestamp: "2025/07/15 10:00:00")
        let path = pki.directory.appendingPathComponent("status.edxml").path
        try await PackageWriter.write(status, to: path, signer: try pki.signer())
        let verdict = runProgram(xmlsec1, ["--verify", "--trusted-pem", pki.rootPEM, path])
        XCTAssertEqual(verdict.status, 0, verdict.err)
    }

    /// A legacy-style signature made by xmlsec1 itself: RSA-SHA1, SHA-1 digest, inclusive C14N,
    /// the `ds:` prefix and a prefixed edXML body — the shapes older producers send.
    func testLegacyRSASHA1SignatureByXmlsec1IsWeakNotInvalid() async throws {
        try XCTSkipUnless(Fixtures.toolAvailable(xmlsec1), "needs xmlsec1")
        let pki = try Fixtures.makePKI(ecdsa: false)
        let template = try String(contentsOf: Fixtures.samples.appendingPathComponent("legacy-rsa-sha1-template.edxml"), encoding: .utf8)
        let templatePath = pki.directory.appendingPathComponent("template.edxml").path
        try template.write(toFile: templatePath, atomically: true, encoding: .utf8)
        let signedPath = pki.directory.appendingPathComponent("legacy.edxml").path
        let signing = runProgram(xmlsec1, ["--sign", "--privkey-pem", "\(pki.keyPEM),\(pki.chainPEM)", "--output", signedPath, templatePath])
        XCTAssertEqual(signing.status, 0, signing.err)

        let result = try await PackageReader.read(path: signedPath, checkSignatures: true)
        let check = try XCTUnwrap(result.signatures?.first)
        XCTAssertEqual(check.outcome, .weak, "\(check.reasons)")
        XCTAssertTrue(check.reasons.contains { $0.contains("SHA-1") })
        guard case .document(let document) = result.package else { return XCTFail("not a document") }
        XCTAssertEqual(document.header.subject, "Về việc thu hồi văn bản số 88/UBND-VP")

        // And once changed, the same legacy signature is invalid.
        let tampered = try String(contentsOfFile: signedPath, encoding: .utf8).replacingOccurrences(of: "88/UBND-VP", with: "89/UBND-VP")
        let tamperedPath = pki.directory.appendingPathComponent("legacy-tampered.edxml").path
        try tampered.write(toFile: tamperedPath, atomically: true, encoding: .utf8)
        let again = try await PackageReader.read(path: tamperedPath, checkSignatures: true)
        XCTAssertEqual(again.signatures?.first?.outcome, .invalid)
    }
}
