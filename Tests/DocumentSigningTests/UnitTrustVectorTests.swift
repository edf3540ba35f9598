import DocumentSigning
import Foundation
import Signing
import X509
import XCTest

/// The RFC 3161 and CRL readers on vectors made once by openssl (Tests/DocumentSigningTests/Vectors,
/// from `openssl ca -gencrl`, `openssl ts -query` / `ts -reply`, P-256 root and TSA): the values
/// openssl printed for them, a flipped byte caught by the signature, every truncation refused.
/// No tools needed at test time.
final class UnitTrustVectorTests: XCTestCase {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

    func vector(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Self.vectors.appendingPathComponent(name)))
    }

    func root() throws -> Certificate {
        try Certificate(pemEncoded: String(decoding: try vector("vector-root.pem"), as: UTF8.self))
    }

    func testCRLVector() throws {
        let list = try CertificateRevocationList(bytes: try vector("vector.crl"))
        let root = try root()
        XCTAssertEqual(list.issuer, root.subject)
        XCTAssertTrue(list.isSigned(by: root))
        // openssl -text: Last Update Nov 21 22:17:20 2026 GMT, Next Update Dec 21 22:17:20 2026 GMT, one revoked serial 2002.
        XCTAssertEqual(list.thisUpdate, ISO8601DateFormatter().date(from: "2026-11-21T22:17:20Z"))
        XCTAssertEqual(list.nextUpdate, ISO8601DateFormatter().date(from: "2026-12-21T22:17:20Z"))
        XCTAssertEqual(Array(list.revoked.keys), [[0x20, 0x02]])

        var tampered = try vector("vector.crl")
        tampered[tampered.count / 3] ^= 0x01
        if let parsed = try? CertificateRevocationList(bytes: tampered) { XCTAssertFalse(parsed.isSigned(by: root)) }

        let whole = try vector("vector.crl")
        for cut in 0..<whole.count {
            XCTAssertThrowsError(try CertificateRevocationList(bytes: Array(whole.prefix(cut))), "cut at \(cut)")
        }
    }

    func testTimeStampReplyVector() throws {
        let token = try TimeStampProtocol.token(fromResponse: try vector("vector.tsr"))
        let info = try TimeStampProtocol.verifyToken(token)
        // openssl ts -reply -text: Time stamp Nov 21 22:17:20 2026 GMT, Nonce 0xA988434C0031CE13, Serial 0x02.
        XCTAssertEqual(info.generationTime, ISO8601DateFormatter().date(from: "2026-11-21T22:17:20Z"))
        XCTAssertEqual(info.nonce, [0x00, 0xA9, 0x88, 0x43, 0x4C, 0x00, 0x31, 0xCE, 0x13])
        XCTAssertEqual(info.serialNumber, [0x02])
        XCTAssertEqual(info.imprint, DigestAlgorithm.sha256.hash(try vector("signature-value.bin")))
        XCTAssertEqual(info.tsaCertificate.subject.description, "CN=Vector TSA")

        // A byte of the TSTInfo changed: the token's own signature no longer holds.
        var changed = token
        let genTime = Array("20261121221720Z".utf8)
        let at = try XCTUnwrap(changed.firstRange(of: genTime)).lowerBound
        changed[at + 3] = UInt8(ascii: "7")
        XCTAssertThrowsError(try TimeStampProtocol.verifyToken(changed)) { error in
            guard case TimeStampError.badSignature = error else { return XCTFail("\(error)") }
        }

        let whole = try vector("vector.tsr")
        for cut in 0..<whole.count {
            XCTAssertThrowsError(try TimeStampProtocol.verifyToken(try TimeStampProtocol.token(fromResponse: Array(whole.prefix(cut)))),
                                 "cut at \(cut)")
        }
    }

    /// Our request for the vector's imprint and nonce is openssl's request but for the SHA-256
    /// AlgorithmIdentifier's NULL parameter, which openssl writes and RFC 5754 §2 says to leave
    /// out (both are to be accepted).
    func testTimeStampRequestAgainstOpenSSLs() throws {
        let theirs = try vector("vector.tsq")
        let ours = try TimeStampProtocol.request(imprint: DigestAlgorithm.sha256.hash(try vector("signature-value.bin")), digest: .sha256,
                                                 nonce: [0x00, 0xA9, 0x88, 0x43, 0x4C, 0x00, 0x31, 0xCE, 0x13])
        let sha256WithNull: [UInt8] = [0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00]
        let sha256Bare: [UInt8] = [0x30, 0x0B, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]
        var expected = theirs
        let at = try XCTUnwrap(expected.firstRange(of: sha256WithNull))
        expected.replaceSubrange(at, with: sha256Bare)
        expected[1] -= 2  // TimeStampReq length
        expected[expected.firstRange(of: sha256Bare)!.lowerBound - 1] -= 2  // MessageImprint length
        XCTAssertEqual(ours, expected)
    }
}
