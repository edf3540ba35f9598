import Foundation
import TestSupport
import XCTest
@testable import TokenDriver

/// `gatewayd token list | sign | cert` (and the same commands in `gateway-token`) against the
/// virtual PIV card in pcscd's virtual reader.
final class TokenCommandLineTests: XCTestCase {
    static let gatewayd = repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path
    static let gatewayToken = repositoryRoot.appendingPathComponent(".build/debug/gateway-token").path

    var card: VirtualCard?
    var context: PCSCContext!
    var directory: String { card!.directory }

    override func setUp() async throws {
        context = try VirtualCard.requirements()
        for program in [Self.gatewayd, Self.gatewayToken] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: program), "needs \(program) (swift build)")
        }
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
        XCTAssertEqual(token.backend, "piv")
        XCTAssertEqual(token.certificates.map(\.slot), ["9a", "9c"])
        XCTAssertEqual(token.certificates.map(\.key_type), ["RSA-2048", "ECC P-256"])
        XCTAssertTrue(token.certificates[0].subject.contains("CN=Nguyễn Văn An"), token.certificates[0].subject)
    }

    /// The slot's public key, from the certificate `token cert` writes (PEM), for openssl.
    func publicKey(_ slot: String) throws -> String {
        let certificate = directory + "/cert-out-\(slot).pem", key = directory + "/pub-\(slot)"
        if FileManager.default.fileExists(atPath: key) { return key }
        let written = gatewayd(["token", "cert", "--slot", slot, "--out", certificate])
        XCTAssertEqual(written.status, 0, written.err)
        XCTAssertEqual(runProgram("/usr/bin/openssl", ["x509", "-in", certificate, "-pubkey", "-noout", "-out", key]).status, 0)
        return key
    }

    func testSignedFilesVerifyWithOpenSSLAndAWrongPINNeverShowsThePIN() throws {
        let file = directory + "/công văn.txt"
        try "Kính gửi: UBND tỉnh".write(toFile: file, atomically: true, encoding: .utf8)
        try (VirtualCard.pin + "\n").write(toFile: directory + "/pin", atomically: true, encoding: .utf8)
        // Both programs that carry the token commands: the daemon's and the technician's tool.
        let programs: [(name: String, run: ([String]) -> (status: Int32, out: String, err: String))] = [
            ("gatewayd token", { self.gatewayd(["token"] + $0) }),
            ("gateway-token", { runProgram(Self.gatewayToken, $0) }),
        ]
        for program in programs {
            for slot in ["9a", "9c"] {
                let signature = directory + "/sig-\(slot)"
                try? FileManager.default.removeItem(atPath: signature)
                let signed = program.run(["sign", "--slot", slot, "--in", file, "--out", signature, "--pin-file", directory + "/pin"])
                XCTAssertEqual(signed.status, 0, "\(program.name): \(signed.err)")
                let verified = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-verify", try publicKey(slot), "-signature", signature, file])
                XCTAssertTrue(verified.out.contains("Verified OK"), "\(program.name) \(slot): \(verified.out) \(verified.err)")
            }
        }
        let listed = runProgram(Self.gatewayToken, ["list", "--json"])
        XCTAssertEqual(listed.status, 0, listed.err)
        let reports = try JSONDecoder().decode([TokenReportProbe].self, from: Data(listed.out.utf8))
        XCTAssertEqual(reports.first { $0.card_present && $0.piv }?.certificates.map(\.slot), ["9a", "9c"])
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
        // This card refuses extended APDUs: that is learnt once (one 6700), not again for the signature.
        XCTAssertEqual(right.err.components(separatedBy: "← 6700").count - 1, 1, right.err)
        for secret in [VirtualCard.pin, VirtualCard.wrongPIN] {
            let hex = secret.utf8.map { String(format: "%02X", $0) }.joined()
            XCTAssertFalse(output.contains(secret), "a PIN appeared in the output")
            XCTAssertFalse(output.uppercased().contains(hex), "a PIN appeared in hex in the output")
        }
    }

    /// A card that takes extended APDUs sends the RSA certificate and signature (both over 256
    /// bytes) whole, each in one answer, never 256 bytes at a time through GET RESPONSE.
    func testAnExtendedAPDUCardAnswersWholeWithoutGetResponse() throws {
        card?.remove(context)
        card = try VirtualCard([])
        try VirtualReader.connectWhenPresent(context).disconnect()
        let file = directory + "/quyết định.txt"
        try "Quyết định".write(toFile: file, atomically: true, encoding: .utf8)
        try (VirtualCard.pin + "\n").write(toFile: directory + "/pin", atomically: true, encoding: .utf8)
        let signed = runProgram(Self.gatewayToken, ["sign", "--slot", "9a", "--in", file, "--out", directory + "/sig", "--pin-file", directory + "/pin"],
                                environment: ["GATEWAYD_APDU_TRACE": "1"])
        XCTAssertEqual(signed.status, 0, signed.err)
        XCTAssertTrue(signed.err.contains("→ 00CB3FFF 5C035FC105 Le=65536"), "the certificate is asked for whole: \(signed.err)")
        XCTAssertFalse(signed.err.contains("→ 00C00000"), "GET RESPONSE was needed: \(signed.err)")
        XCTAssertFalse(signed.err.contains("← 6700"), signed.err)
        let verified = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-verify", try publicKey("9a"), "-signature", directory + "/sig", file])
        XCTAssertTrue(verified.out.contains("Verified OK"), verified.out + verified.err)
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
    /// Which backend serves the card (issue 18): "piv" for the virtual PIV card.
    var backend: String?
}
