import Foundation
import Signing
import TestSupport
import XCTest

/// The software key signer, judged by openssl: keys and certificates made by `openssl req`, every
/// scheme signed by us over a digest and verified by `openssl dgst -verify` over the message.
final class SoftwareKeySignerTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("signing-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// A key and a self-signed certificate from openssl; returns their paths.
    func makeKey(_ name: String, _ newkey: [String]) throws -> (key: String, cert: String) {
        let key = "\(directory!)/\(name).key", cert = "\(directory!)/\(name).pem"
        let made = runProgram("/usr/bin/openssl", ["req", "-x509", "-utf8", "-subj", "/CN=Nguyễn Văn An/O=UBND xã Hòa Tiến", "-days", "2",
                                                   "-nodes", "-keyout", key, "-out", cert] + newkey)
        XCTAssertEqual(made.status, 0, made.err)
        return (key, cert)
    }

    func testEverySchemeVerifiesWithOpenSSL() async throws {
        let message = directory + "/quyết định.txt"
        try "Quyết định số 123/QĐ-UBND về việc …".write(toFile: message, atomically: true, encoding: .utf8)
        let keys: [(String, [String], SignerKeyType)] = [
            ("rsa", ["-newkey", "rsa:2048"], .rsa(bits: 2048)),
            ("p256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], .ecdsaP256),
            ("p384", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"], .ecdsaP384),
        ]
        for (name, newkey, keyType) in keys {
            let files = try makeKey(name, newkey)
            let signer = try SoftwareKeySigner(keyFile: files.key, chainFile: files.cert)
            XCTAssertEqual(signer.keyType, keyType)
            XCTAssertTrue(signer.certificate.subject.description.contains("Nguyễn Văn An"), signer.certificate.subject.description)
            let publicKey = directory + "/\(name).pub"
            XCTAssertEqual(runProgram("/usr/bin/openssl", ["x509", "-in", files.cert, "-pubkey", "-noout", "-out", publicKey]).status, 0)
            for algorithm in keyType.algorithms {
                let digest = try FileDigest.compute(path: message, algorithm: algorithm.digest)
                let signature = try await signer.sign(digest: digest, algorithm: algorithm)
                let signaturePath = directory + "/\(name)-\(algorithm).sig"
                FileManager.default.createFile(atPath: signaturePath, contents: Data(signature))
                var arguments = ["dgst", "-\(algorithm.digest.rawValue)", "-verify", publicKey, "-signature", signaturePath]
                if algorithm.isPSS { arguments += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"] }
                let verified = runProgram("/usr/bin/openssl", arguments + [message])
                XCTAssertTrue(verified.out.contains("Verified OK"), "\(name) \(algorithm): \(verified.out) \(verified.err)")
            }
        }
    }

    func testAlgorithmAndDigestMistakesAreRefusedBeforeSigning() async throws {
        let files = try makeKey("p256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
        let signer = try SoftwareKeySigner(keyFile: files.key, chainFile: files.cert)
        do {
            _ = try await signer.sign(digest: Array(repeating: 0, count: 32), algorithm: .rsaPKCS1SHA256)
            XCTFail("an EC key signed RSA")
        } catch {
            XCTAssertEqual(error as? SignerError, .algorithmNotSupported(.rsaPKCS1SHA256, key: .ecdsaP256))
        }
        do {
            _ = try await signer.sign(digest: Array(repeating: 0, count: 20), algorithm: .ecdsaSHA256)
            XCTFail("a 20-byte digest was signed as SHA-256")
        } catch {
            XCTAssertEqual(error as? SignerError, .digestLength(expected: 32, actual: 20))
        }
    }

    func testAKeyThatIsNotTheCertificatesIsRefused() throws {
        let first = try makeKey("a", ["-newkey", "rsa:2048"])
        let second = try makeKey("b", ["-newkey", "rsa:2048"])
        XCTAssertThrowsError(try SoftwareKeySigner(keyFile: first.key, chainFile: second.cert)) {
            XCTAssertEqual($0 as? SignerError, .keyDoesNotMatchCertificate)
        }
        XCTAssertThrowsError(try SoftwareKeySigner(keyFile: directory + "/missing.key", chainFile: second.cert)) {
            guard case .keyFile = $0 as? SignerError else { return XCTFail("\($0)") }
        }
    }

    /// The PSS block alone, with a fixed salt, judged by Python's `cryptography` as the verifier
    /// (it recomputes the encoding from the message): the raw RSA operation is applied by Python.
    func testPSSBlockIsStandardForAnIndependentVerifier() throws {
        try XCTSkipUnless(runProgram("/usr/bin/env", ["python3", "-c", "import cryptography"]).status == 0, "needs python3 with cryptography")
        let message = Array("Tờ trình số 45/TTr-UBND".utf8)
        let digest = try FileDigest.compute(path: { let p = directory + "/m"; FileManager.default.createFile(atPath: p, contents: Data(message)); return p }(),
                                            algorithm: .sha256)
        let block = try RSAPadding.pss(digest: digest, algorithm: .sha256, modulusBits: 2048, salt: Array(repeating: 0x5A, count: 32))
        XCTAssertEqual(block.count, 256)
        XCTAssertEqual(block.last, 0xBC)
        let script = """
            import sys
            from cryptography.hazmat.primitives.asymmetric import rsa, padding
            from cryptography.hazmat.primitives import hashes
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            n = key.private_numbers().public_numbers.n; d = key.private_numbers().d
            signature = pow(int(sys.argv[1], 16), d, n).to_bytes(256, "big")
            key.public_key().verify(signature, bytes.fromhex(sys.argv[2]),
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
            print("verified")
            """
        let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
        let result = runProgram("/usr/bin/env", ["python3", "-c", script, hex(block), hex(message)])
        XCTAssertEqual(result.out.trimmingCharacters(in: .whitespacesAndNewlines), "verified", result.err)
    }
}
