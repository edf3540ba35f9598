import DocumentSigning
import Foundation
import Signing
import TestSupport
import XCTest

/// Detached CMS (CAdES-B) made by us over a streamed digest, judged by `openssl cms -verify`
/// against a test root CA: every scheme, and a changed byte in the content is refused.
final class CAdESTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cades-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func openssl(_ arguments: [String]) -> (status: Int32, out: String, err: String) { runProgram("/usr/bin/openssl", arguments) }

    /// A root CA and a signer certificate issued by it (with the key usages a signing certificate has).
    func makeChain(_ name: String, _ key: TestPKI.KeyKind) throws -> TestPKI.Signer {
        try TestPKI(directory: directory).issue(name, key: key)
    }

    func testDetachedSignaturesVerifyWithOpenSSLCMS() async throws {
        let content = directory + "/Báo cáo tháng 11.docx"
        try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: content))
        let cases: [(String, TestPKI.KeyKind, [SignatureAlgorithm])] = [
            ("rsa", .rsa2048, [.rsaPKCS1SHA256, .rsaPSSSHA256, .rsaPKCS1SHA512]),
            ("p256", .p256, [.ecdsaSHA256]),
            ("p384", .p384, [.ecdsaSHA384]),
        ]
        for (name, key, algorithms) in cases {
            let files = try makeChain(name, key)
            let signer = try SoftwareKeySigner(keyFile: files.key, chainFile: files.chain)
            for algorithm in algorithms {
                let digest = try FileDigest.compute(path: content, algorithm: algorithm.digest)
                let cms = try await CMSSignedDataBuilder.sign(contentDigest: digest, signer: signer, algorithm: algorithm, profile: .cades)
                let p7s = "\(directory!)/\(name)-\(algorithm).p7s"
                try Data(cms).write(to: URL(fileURLWithPath: p7s))
                let verified = openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", p7s, "-content", content,
                                        "-CAfile", files.root, "-purpose", "any", "-out", "/dev/null"])
                XCTAssertEqual(verified.status, 0, "\(name) \(algorithm): \(verified.err)")
                XCTAssertTrue(verified.err.contains("Verification successful"), verified.err)
                let printed = openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", p7s]).out
                XCTAssertTrue(printed.contains("id-smime-aa-signingCertificateV2"), "ESS signing-certificate-v2 present")
                XCTAssertTrue(printed.contains("signingTime"), "CAdES carries the signing time")
            }
        }
    }

    func testPAdESProfileHasNoSigningTimeAndAChangedByteFailsVerification() async throws {
        let files = try makeChain("p256", .p256)
        let signer = try SoftwareKeySigner(keyFile: files.key, chainFile: files.chain)
        let content = directory + "/data.bin"
        try Data("Quyết định số 123/QĐ-UBND".utf8).write(to: URL(fileURLWithPath: content))
        let digest = try FileDigest.compute(path: content, algorithm: .sha256)
        let cms = try await CMSSignedDataBuilder.sign(contentDigest: digest, signer: signer, algorithm: .ecdsaSHA256, profile: .pades)
        let p7s = directory + "/pades.p7s"
        try Data(cms).write(to: URL(fileURLWithPath: p7s))
        XCTAssertFalse(openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", p7s]).out.contains("signingTime"),
                       "PAdES B-B forbids the signing-time attribute")
        XCTAssertEqual(openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", p7s, "-content", content, "-CAfile", files.root,
                                "-purpose", "any", "-out", "/dev/null"]).status, 0)
        try Data("Quyết định số 124/QĐ-UBND".utf8).write(to: URL(fileURLWithPath: content))
        let tampered = openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", p7s, "-content", content, "-CAfile", files.root,
                                "-purpose", "any", "-out", "/dev/null"])
        XCTAssertNotEqual(tampered.status, 0, "a changed byte must fail")
    }
}
