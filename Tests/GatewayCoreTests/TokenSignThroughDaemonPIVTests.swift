import Foundation
import TestSupport
import XCTest
@testable import GatewayCore

/// `gateway-token sign` (and `cert`) with a PIV card while gatewayd runs: `--reader` and `--slot`
/// become the request's reader and key, and the daemon signs on the card. The tool runs with pcsc-lite's
/// socket (`PCSCLITE_CSOCK_NAME`) pointing nowhere, so it could not reach the card itself.
extension SigningEndToEndTests {
    func testGatewayTokenSignsOnTheCardThroughTheDaemon() async throws {
        let program = repositoryRoot.appendingPathComponent(".build/debug/gateway-token").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: program), "needs .build/debug/gateway-token (swift build)")
        let card = try insertCard("leader", reader: Self.leaderReader)
        let blind = ["PCSCLITE_CSOCK_NAME": directory + "/no-pcscd.comm"]
        let file = directory + "/to-trinh.txt"
        try "Tờ trình số 3".write(toFile: file, atomically: true, encoding: .utf8)
        func pinFile(_ pin: String, _ name: String) throws -> String {
            try (pin + "\n").write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
            return directory + "/" + name
        }
        let reader = Self.readers[Self.leaderReader]
        let alone = runProgram(program, ["sign", "--reader", reader, "--socket", directory + "/nobody.sock", "--pin-file", try pinFile(Self.pin, "pin"),
                                         "--in", file, "--out", file + ".alone.sig"], environment: blind)
        XCTAssertNotEqual(alone.status, 0, "the tool reached the card without pcscd's socket: \(alone.err)")

        let signed = runProgram(program, ["sign", "--reader", reader, "--slot", "9c", "--socket", box.socket, "--pin-file", try pinFile(Self.pin, "pin"),
                                          "--in", file, "--out", file + ".sig"], environment: blind)
        XCTAssertEqual(signed.status, 0, signed.err + logText(box.logPath))
        let key = runProgram("/usr/bin/openssl", ["x509", "-in", pki + "/leader.pem", "-pubkey", "-noout", "-out", pki + "/leader-public.pem"])
        XCTAssertEqual(key.status, 0, key.err)
        let verified = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-verify", pki + "/leader-public.pem", "-signature", file + ".sig", file])
        XCTAssertTrue(verified.out.contains("Verified OK"), verified.out + verified.err)
        XCTAssertTrue(try String(contentsOfFile: box.logPath, encoding: .utf8).contains("location=\(reader), slot 9c"), logText(box.logPath))

        // `token cert` through the daemon too: the card's certificate, as testpki.py wrote it.
        let cert = runProgram(program, ["cert", "--reader", reader, "--socket", box.socket, "--out", directory + "/from-card.pem"], environment: blind)
        XCTAssertEqual(cert.status, 0, cert.err)
        func der(_ pem: String) -> String { runProgram("/usr/bin/openssl", ["x509", "-in", pem, "-outform", "DER"]).out }
        XCTAssertEqual(der(directory + "/from-card.pem"), der(pki + "/leader.pem"))
        XCTAssertFalse(der(pki + "/leader.pem").isEmpty)

        // A wrong PIN: the daemon's wrong_pin with the card's count, exactly one try spent, no file.
        let refused = runProgram(program, ["sign", "--reader", reader, "--socket", box.socket, "--pin-file", try pinFile(Self.wrongPIN, "wrong"),
                                           "--in", file, "--out", file + ".wrong.sig"], environment: blind)
        XCTAssertEqual(refused.status, 1, refused.err)
        XCTAssertTrue(refused.err.contains("Sai mã PIN, còn 2 lần thử") && refused.err.contains("wrong_pin"), refused.err)
        XCTAssertEqual(try triesLeft(card), 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file + ".wrong.sig"))
    }
}
