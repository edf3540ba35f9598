import ArgumentParser
import GatewayCore
import TokenCommandLine
import XCTest

/// `gateway-token sign`'s own reading of the plain spelling (`SignRequest.plainlySpelled`, which
/// skips ArgumentParser for speed) against ArgumentParser's parse of the same arguments: where it
/// answers, it answers what ArgumentParser gives the command; everything else it leaves to
/// ArgumentParser (nil), including every line ArgumentParser refuses.
final class TokenCommandLineSignRequestTests: XCTestCase {
    func testThePlainSpellingGivesWhatArgumentParserGives() throws {
        let lines: [[String]] = [
            ["--in", "a.pdf", "--out", "a.sig"],
            ["--pkcs11", "pkcs11:token=bench;id=%01", "--module", "/usr/lib/softhsm/libsofthsm2.so", "--algorithm", "ecdsa-sha256",
             "--pin-file", "/tmp/pin", "--in", "a", "--out", "a.sig"],
            ["--in", "a", "b", "c", "--out", "a.sig", "b.sig", "c.sig", "--pkcs11", "pkcs11:token=x", "--force"],
            ["--socket", "/run/gw/gatewayd.sock", "--pkcs11", "pkcs11:token=x", "--in", "a", "--out", "a.sig"],
            ["--force", "--slot", "9A", "--reader", "Virtual PCD 00 01", "--out", "tờ trình.sig", "--in", "tờ trình.pdf"],
            ["--in", "", "--out", "x=y", "--algorithm", "nope"],  // values as given; what they mean is run()'s to check
        ]
        for line in lines {
            let ours = try XCTUnwrap(SignRequest.plainlySpelled(["sign"] + line), "\(line)")
            XCTAssertEqual(ours, try Token.Sign.parse(line).request, "\(line)")
        }
    }

    func testEverythingElseIsLeftToArgumentParser() {
        let refusedByArgumentParser: [[String]] = [
            ["--help"], ["-h"], ["--in", "a"], ["--out", "a.sig"], [],
            ["--in", "a", "b", "--out", "a.sig"],  // --in and --out pair up (validate())
            ["--in", "a", "b", "--out", "a.sig", "b.sig"],  // several files need --pkcs11 (validate())
            ["--in", "a", "--out", "a.sig", "--pkcs11"],
            ["--pkcs11", "pkcs11:token=x", "stray", "--in", "a", "--out", "a.sig"],
            ["--in", "a", "--out", "a.sig", "--unknown", "x"],
            ["--in", "a", "--out", "a.sig", "--slot", "--force"],
            ["--in", "a", "--out", "a.sig", "--socket"],
        ]
        for line in refusedByArgumentParser {
            XCTAssertNil(SignRequest.plainlySpelled(["sign"] + line), "\(line)")
            XCTAssertThrowsError(try Token.Sign.parse(line), "\(line)")
        }
        // Spellings ArgumentParser reads but this reader leaves to it, to stay simple.
        let spelledOtherwise: [[String]] = [
            ["--in=a", "--out", "a.sig"], ["--in", "a", "--out", "a.sig", "--slot", "9a", "--slot", "9c"],
            ["--in", "a", "--out", "a.sig", "--force", "--force"], ["--in", "a", "--out", "a.sig", "--socket", "s", "--socket", "t"], ["--in", "a", "--in", "b", "--out", "a.sig", "b.sig", "--pkcs11", "u"],
            ["--in", "-a", "--out", "a.sig"], ["--in", "a", "--out", "a.sig", "--", "x"],
        ]
        for line in spelledOtherwise { XCTAssertNil(SignRequest.plainlySpelled(["sign"] + line), "\(line)") }
        XCTAssertNil(SignRequest.plainlySpelled(["list"]))
        XCTAssertNil(SignRequest.plainlySpelled(["--help"]))
        XCTAssertNil(SignRequest.plainlySpelled([]))
    }

    /// The tool's default socket is the daemon's (gateway-token links no GatewayCore to ask it).
    func testTheDefaultSocketIsTheDaemons() {
        XCTAssertEqual(DaemonConnection.defaultSocket, GatewayConfiguration().socketPath)
    }
}
