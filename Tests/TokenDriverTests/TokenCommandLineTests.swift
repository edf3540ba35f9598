import Foundation
import TestSupport
import XCTest
@testable import TokenDriver

/// `gatewayd token list | sign | cert` against the virtual PIV card in pcscd's virtual reader.
final class TokenCommandLineTests: XCTestCase {
    static let gatewayd = repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path

    var card: VirtualCard?
    var context: PCSCContext!
    var directory: String { card!.directory }

    override func setUp() async throws {
        context = try VirtualCard.requirements()
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gatewayd), "needs .build/debug/gatewayd")
        card = try VirtualCard()
        try VirtualReader.connectWhenPresent(context).disconnect()
    }

    override func tearDown() async throws { card?.remove(context) }

    func gatewayd(_ arguments: [String], environment: [String: String] = [:]) -> (status: Int32, out: String, err: String) {
        runProgram(Self.gatewayd, arguments, environment: environment)
    }

    func testListShowsTheTokenWithItsCertificatesAndTries() throws {
        let result = gatewayd(["token", "list", "--json"])
        XCTAssertEqual(result.status, 0, result.err)
        let reports = try JSONDecoder().decode([TokenReportProbe].self, from: Data(result.out.utf8))
        let token = try XCTUnwrap(reports.first { $0.card_present && $0.piv })
        XCTAssertEqual(token.pin_tries_left, 3)
        XCTAssertEqual(token.certificates.map(\.slot), ["9a", "9c"])
        XCTAssertEqual(token.certificates.map(\.key_type), ["RSA-2048", "ECC P-256"])
        XCTAssertTrue(token.certificates[0].subject.contains("CN=Nguyễn Văn An"), token.certificates[0].subject)
    }

    func testSignedFilesVerifyWithOpenSSLAndAWrongPINNeverShowsThePIN() throws {
        let file = directory + "/công văn.txt"
        try "Kính gửi: UBND tỉnh".write(toFile: file, atomically: true, encoding: .utf8)
        try (VirtualCard.pin + "\n").write(toFile: directory + "/pin", atomically: true, encoding: .utf8)
        for slot in ["9a", "9c"] {
            let signature = directory + "/sig-\(slot)"
            let signed = gatewayd(["token", "sign", "--slot", slot, "--in", file, "--out", signature, "--pin-file", directory + "/pin"])
            XCTAssertEqual(signed.status, 0, signed.err)
            XCTAssertEqual(gatewayd(["token", "cert", "--slot", slot, "--out", directory + "/cert-out-\(slot).pem"]).status, 0)
            XCTAssertEqual(runProgram("/usr/bin/openssl", ["x509", "-in", directory + "/cert-out-\(slot).pem", "-pubkey", "-noout", "-out", directory + "/pub-\(slot)"]).status, 0)
            let verified = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-verify", directory + "/pub-\(slot)", "-signature", signature, file])
            XCTAssertTrue(verified.out.contains("Verified OK"), "\(slot): \(verified.out) \(verified.err)")
        }
        try (VirtualCard.wrongPIN + "\n").write(toFile: directory + "/wrong", atomically: true, encoding: .utf8)
        let wrong = gatewayd(["token", "sign", "--slot", "9c", "--in", file, "--out", directory + "/x", "--pin-file", directory + "/wrong"])
        XCTAssertEqual(wrong.status, 1)
        XCTAssertTrue(wrong.err.contains("2 tries left"), wrong.err)
        XCTAssertFalse((wrong.out + wrong.err).contains(VirtualCard.wrongPIN), "the PIN appeared in the output")
    }
}

extension TokenCommandLineTests {
    /// `gatewayd sign --signer token:9c`: a CAdES .p7s made on the card, checked by openssl cms
    /// with the card's own (self-signed) certificate as the trust anchor.
    func testCAdESSignatureOnTheTokenVerifiesWithOpenSSLCMS() throws {
        let file = directory + "/Công văn 45.odt"
        try Data((0..<50_000).map { UInt8(truncatingIfNeeded: $0) }).write(to: URL(fileURLWithPath: file))
        try (VirtualCard.pin + "\n").write(toFile: directory + "/pin", atomically: true, encoding: .utf8)
        for slot in ["9a", "9c"] {
            let p7s = directory + "/sig-\(slot).p7s"
            let signed = gatewayd(["sign", file, "--out", p7s, "--signer", "token:\(slot)", "--pin-file", directory + "/pin"])
            XCTAssertEqual(signed.status, 0, signed.err)
            let verified = runProgram("/usr/bin/openssl", ["cms", "-verify", "-binary", "-inform", "DER", "-in", p7s, "-content", file,
                                                           "-CAfile", directory + "/cert-\(slot).pem", "-purpose", "any", "-out", "/dev/null"])
            XCTAssertEqual(verified.status, 0, "\(slot): \(verified.err)")
        }
    }

    /// With APDU tracing on, a right and a wrong PIN: the VERIFY is in the trace, its data is not.
    /// The whole output is printed so that scripts/test's search of the run's log covers it too.
    func testTheAPDUTraceRedactsThePIN() throws {
        let file = directory + "/tờ trình.txt"
        try "Tờ trình".write(toFile: file, atomically: true, encoding: .utf8)
        try (VirtualCard.pin + "\n").write(toFile: directory + "/pin", atomically: true, encoding: .utf8)
        try (VirtualCard.wrongPIN + "\n").write(toFile: directory + "/wrong", atomically: true, encoding: .utf8)
        let trace = ["GATEWAYD_APDU_TRACE": "1"]
        let right = gatewayd(["token", "sign", "--slot", "9a", "--in", file, "--out", directory + "/sig", "--pin-file", directory + "/pin"], environment: trace)
        XCTAssertEqual(right.status, 0, right.err)
        let wrong = gatewayd(["token", "sign", "--slot", "9c", "--in", file, "--out", directory + "/sig2", "--pin-file", directory + "/wrong"], environment: trace)
        XCTAssertEqual(wrong.status, 1)
        let output = right.out + right.err + wrong.out + wrong.err
        print("— traced output of token sign (right PIN, then wrong PIN) —\n" + output)
        XCTAssertTrue(output.contains("→ 00200080 [8 bytes redacted]"), "the VERIFY is traced, redacted: \(output)")
        XCTAssertTrue(output.contains("← 63C2"), "the card's answer to the wrong PIN is traced: \(output)")
        for secret in [VirtualCard.pin, VirtualCard.wrongPIN] {
            let hex = secret.utf8.map { String(format: "%02X", $0) }.joined()
            XCTAssertFalse(output.contains(secret), "a PIN appeared in the output")
            XCTAssertFalse(output.uppercased().contains(hex), "a PIN appeared in hex in the output")
        }
    }
}

/// The JSON of `token list`, read as a client would (independently of TokenReport's Codable).
struct TokenReportProbe: Decodable {
    struct Certificate: Decodable { var slot: String; var key_type: String; var subject: String }
    var reader: String
    var card_present: Bool
    var piv: Bool
    var pin_tries_left: Int?
    var certificates: [Certificate]
}
