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
    func makeChain(_ name: String, _ newkey: [String]) throws -> (key: String, chain: String, root: String) {
        let d = directory!
        XCTAssertEqual(openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(d)/root.key",
                                "-out", "\(d)/root.pem", "-days", "30", "-subj", "/CN=Test Root CA/O=Ban Cơ yếu (thử nghiệm)", "-utf8",
                                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]).status, 0)
        XCTAssertEqual(openssl(["req", "-new"] + newkey + ["-nodes", "-keyout", "\(d)/\(name).key", "-out", "\(d)/\(name).csr",
                                                           "-subj", "/CN=Nguyễn Văn An/O=UBND xã Hòa Tiến", "-utf8"]).status, 0)
        try "keyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n".write(toFile: "\(d)/ext", atomically: true, encoding: .utf8)
        let issued = openssl(["x509", "-req", "-in", "\(d)/\(name).csr", "-CA", "\(d)/root.pem", "-CAkey", "\(d)/root.key", "-CAcreateserial",
                              "-days", "10", "-extfile", "\(d)/ext", "-out", "\(d)/\(name).pem"])
        XCTAssertEqual(issued.status, 0, issued.err)
        return ("\(d)/\(name).key", "\(d)/\(name).pem", "\(d)/root.pem")
    }

    func testDetachedSignaturesVerifyWithOpenSSLCMS() async throws {
        let content = directory + "/Báo cáo tháng 11.docx"
        try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: content))
        let cases: [(String, [String], [SignatureAlgorithm])] = [
            ("rsa", ["-newkey", "rsa:2048"], [.rsaPKCS1SHA256, .rsaPSSSHA256, .rsaPKCS1SHA512]),
            ("p256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], [.ecdsaSHA256]),
            ("p384", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"], [.ecdsaSHA384]),
        ]
        for (name, newkey, algorithms) in cases {
            let files = try makeChain(name, newkey)
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
        let files = try makeChain("p256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
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
