import Foundation
import TestSupport
import XCTest
import Signing
@testable import TokenDriver

/// PIVToken through the real pcscd against the project's virtual PIV card
/// (tools/virtual-piv/virtual_piv.py), switched to refuse extended APDUs as many tokens do.
/// Signatures are judged by openssl; PIN tries by the card's own counter (its state file).
final class VirtualPIVTests: XCTestCase {
    var card: VirtualCard?
    var context: PCSCContext!
    var directory: String { card!.directory }

    override func setUp() async throws { context = try VirtualCard.requirements() }
    override func tearDown() async throws { card?.remove(context) }

    func insert(_ extra: [String] = []) throws -> PIVToken {
        card = try VirtualCard(["--no-extended"] + extra)
        return PIVToken(card: try VirtualReader.connectWhenPresent(context))
    }

    func cardTriesLeft() throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/state.json"))
        return try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["tries"] as? Int)
    }

    func testCertificatesAreReadWholeThroughGetResponse() throws {
        let token = try insert()
        try token.select()
        for slot in [PIV.Slot.authentication, .signature] {
            let der = try token.certificate(slot)
            let expected = try Data(contentsOf: URL(fileURLWithPath: directory + "/cert-\(slot.rawValue).der"))
            XCTAssertEqual(der, Array(expected), slot.rawValue)
        }
    }

    func testSignaturesVerifyWithOpenSSLForRSAAndP256WithoutExtendedAPDUs() throws {
        let token = try insert()
        let message = Array("Quyết định số 123/QĐ-UBND — ký trên token".utf8)
        let messagePath = directory + "/message.txt"
        FileManager.default.createFile(atPath: messagePath, contents: Data(message))
        let digest = Array(try Data(contentsOf: URL(fileURLWithPath: messagePath)).sha256ViaOpenSSL(path: messagePath))
        for (slot, algorithm) in [(PIV.Slot.authentication, PIV.Algorithm.rsa2048), (.signature, .eccP256)] {
            let signature = try token.sign(digest: digest, algorithm: algorithm == .rsa2048 ? .rsaPKCS1SHA256 : .ecdsaSHA256,
                                           keyAlgorithm: algorithm, slot: slot, pin: try PIN(VirtualCard.pin))
            let signaturePath = directory + "/sig-\(slot.rawValue).bin"
            FileManager.default.createFile(atPath: signaturePath, contents: Data(signature))
            let publicKey = directory + "/pub-\(slot.rawValue).pem"
            XCTAssertEqual(runProgram("/usr/bin/openssl", ["x509", "-in", directory + "/cert-\(slot.rawValue).pem", "-pubkey", "-noout", "-out", publicKey]).status, 0)
            let verified = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-verify", publicKey, "-signature", signaturePath, messagePath])
            XCTAssertEqual(verified.status, 0, "\(slot.rawValue): \(verified.out) \(verified.err)")
            XCTAssertTrue(verified.out.contains("Verified OK"), verified.out)
        }
        XCTAssertFalse(token.extendedAPDUs, "the RSA signature needed chaining: extended APDUs were refused")
        // Slot 9C is "PIN always": a second signature without a fresh VERIFY is refused.
        XCTAssertThrowsError(try token.sign(digest: digest, algorithm: .ecdsaSHA256, keyAlgorithm: .eccP256, slot: .signature, pin: nil)) {
            XCTAssertEqual($0 as? PIVToken.Failure, .card(.securityStatusNotSatisfied, operation: "GENERAL AUTHENTICATE 9c"))
        }
    }

    /// P-384 in 9D and P-256 in 9E (no PIN), signed through `PIVSigner` as GatewayCore will, over
    /// SHA-384 and SHA-256 digests, verified by openssl; and RSA-PSS on 9A.
    func testPIVSignerWithP384PSSAndTheNoPINSlot() throws {
        _ = try insert(["--9a", "rsa2048", "--9d", "p384", "--9e", "p256"])
        let message = directory + "/tờ trình.txt"
        try "Tờ trình số 45/TTr-UBND".write(toFile: message, atomically: true, encoding: .utf8)
        let reader = try VirtualReader.reader(context)
        let cases: [(PIV.Slot, SignatureAlgorithm, [String])] = [
            (.keyManagement, .ecdsaSHA384, ["-sha384"]),
            (.keyManagement, .ecdsaSHA256, ["-sha256"]),
            (.cardAuthentication, .ecdsaSHA256, ["-sha256"]),
            (.authentication, .rsaPSSSHA256, ["-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"]),
        ]
        for (slot, algorithm, opensslOptions) in cases {
            let signer = try PIVSigner(reader: reader, slot: slot) { try PIN(VirtualCard.pin) }
            let signature = try signer.signNow(digest: try FileDigest.compute(path: message, algorithm: algorithm.digest), algorithm: algorithm)
            let signaturePath = directory + "/sig-\(slot.rawValue)-\(algorithm)"
            FileManager.default.createFile(atPath: signaturePath, contents: Data(signature))
            let publicKey = directory + "/pub-\(slot.rawValue).pem"
            XCTAssertEqual(runProgram("/usr/bin/openssl", ["x509", "-in", directory + "/cert-\(slot.rawValue).pem", "-pubkey", "-noout", "-out", publicKey]).status, 0)
            let verified = runProgram("/usr/bin/openssl", ["dgst"] + opensslOptions + ["-verify", publicKey, "-signature", signaturePath, message])
            XCTAssertTrue(verified.out.contains("Verified OK"), "\(slot) \(algorithm): \(verified.out) \(verified.err)")
        }
        XCTAssertEqual(try cardTriesLeft(), 3, "no PIN was spent")
    }

    func testWrongPINCountsDownRefusesTheLastTryAndReportsBlocked() throws {
        let token = try insert()
        try token.select()
        XCTAssertEqual(try token.pinStatus(), .triesLeft(3))
        XCTAssertThrowsError(try token.verify(try PIN(VirtualCard.wrongPIN), force: false)) { XCTAssertEqual($0 as? PIVToken.Failure, .pinIncorrect(triesLeft: 2)) }
        XCTAssertEqual(try cardTriesLeft(), 2)
        XCTAssertThrowsError(try token.verify(try PIN(VirtualCard.wrongPIN), force: false)) { XCTAssertEqual($0 as? PIVToken.Failure, .pinIncorrect(triesLeft: 1)) }
        XCTAssertEqual(try cardTriesLeft(), 1)
        // One try left: refused before anything is sent, even with the right PIN.
        XCTAssertThrowsError(try token.verify(try PIN(VirtualCard.pin), force: false)) { XCTAssertEqual($0 as? PIVToken.Failure, .lastTryRefused) }
        XCTAssertEqual(try cardTriesLeft(), 1)
        XCTAssertThrowsError(try token.verify(try PIN(VirtualCard.wrongPIN), force: true)) { XCTAssertEqual($0 as? PIVToken.Failure, .pinBlocked) }
        XCTAssertEqual(try cardTriesLeft(), 0)
        XCTAssertEqual(try token.pinStatus(), .blocked)
        XCTAssertThrowsError(try token.verify(try PIN(VirtualCard.pin), force: true)) { XCTAssertEqual($0 as? PIVToken.Failure, .pinBlocked) }
    }

    /// The card pulled out between two operations: the token says the connection is lost before
    /// any PIN was sent (so reconnecting is safe), and the signer, having reconnected once and
    /// found no card, says so clearly. The card's PIN counter is untouched.
    func testCardRemovedBeforeASignatureIsAClearError() throws {
        let token = try insert()
        try token.select()
        let signer = try PIVSigner(reader: try VirtualReader.reader(context), slot: .signature) { try PIN(VirtualCard.pin) }
        card?.pull()
        XCTAssertThrowsError(try token.sign(digest: Array(repeating: 1, count: 32), algorithm: .ecdsaSHA256, keyAlgorithm: .eccP256,
                                            slot: .signature, pin: try PIN(VirtualCard.pin))) { error in
            guard case .connectionLost(let pcsc) = error as? PIVToken.Failure else { return XCTFail("\(error)") }
            XCTAssertTrue(pcsc.isRecoverable, "\(pcsc)")
        }
        XCTAssertThrowsError(try signer.signNow(digest: Array(repeating: 1, count: 32), algorithm: .ecdsaSHA256)) { error in
            guard case .transport(let pcsc) = error as? PIVToken.Failure else { return XCTFail("\(error)") }
            XCTAssertTrue([.noSmartcard, .removedCard, .notTransacted].contains(pcsc), "\(pcsc)")
        }
        XCTAssertEqual(try cardTriesLeft(), 3)
    }

    /// The token pulled out and plugged back in between two signatures: the signer's kept
    /// connection has gone stale; it reconnects by itself and signs, spending no PIN try.
    func testSignerReconnectsAfterTheTokenIsReinserted() throws {
        _ = try insert()
        let reader = try VirtualReader.reader(context)
        let signer = try PIVSigner(reader: reader, slot: .signature) { try PIN(VirtualCard.pin) }
        let digest = Array(repeating: UInt8(7), count: 32)
        XCTAssertFalse(try signer.signNow(digest: digest, algorithm: .ecdsaSHA256).isEmpty)
        let directory = card!.directory
        card?.pull()
        XCTAssertTrue(try VirtualReader.waitUntilEmpty(context))
        // The same card (same keys and counter) back in the reader.
        card = try VirtualCard(["--no-extended"], directory: directory)
        _ = try VirtualReader.connectWhenPresent(context)
        XCTAssertFalse(try signer.signNow(digest: digest, algorithm: .ecdsaSHA256).isEmpty)
        XCTAssertEqual(try cardTriesLeft(), 3)
    }
}

extension Data {
    func sha256ViaOpenSSL(path: String) throws -> Data {
        let result = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-binary", "-out", path + ".sha256", path])
        guard result.status == 0 else { throw CocoaError(.fileReadUnknown) }
        return try Data(contentsOf: URL(fileURLWithPath: path + ".sha256"))
    }
}
