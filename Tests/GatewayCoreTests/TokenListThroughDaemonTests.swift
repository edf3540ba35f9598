import Foundation
import TestSupport
import XCTest

/// `gateway-token list` and `change-pin` while gatewayd runs (issue 18): the daemon lists the
/// tokens and changes the PIN, the tool does not open them. The same rig as `token sign`'s (a daemon whose `[tokens] modules` names SoftHSM2,
/// the tool without a SoftHSM2 configuration of its own), so whatever token the tool shows, the
/// daemon read.
extension TokenSignThroughDaemonTests {
    /// Standard output parsed as JSON.
    func parsed(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    func testListGoesThroughTheDaemon() throws {
        // Blind, the tool alone does not see the token: its SoftHSM2 has no configuration.
        let alone = runProgram(program, ["list", "--module", Self.module, "--socket", directory + "/nobody.sock"], environment: blind)
        XCTAssertFalse(alone.out.contains("Daemon signs"), alone.out)

        let listed = runProgram(program, ["list", "--module", Self.module, "--socket", daemon.socket], environment: blind)
        XCTAssertEqual(listed.status, 0, listed.err + logText(daemon.logPath))
        let lines = listed.out.split(separator: "\n")
        XCTAssertTrue(lines.first?.contains("listed by gatewayd (\(daemon.socket))") == true, listed.out)
        // SoftHSM2's token and its free slot's uninitialised one.
        XCTAssertTrue(listed.out.contains("PKCS#11 \(Self.module): 2 token"), listed.out)
        XCTAssertTrue(listed.out.contains("Daemon signs — SoftHSM project SoftHSM v2"), listed.out)
        // The key named by its URI, as the tool names it when it lists by itself.
        XCTAssertTrue(listed.out.contains("    pkcs11:token=Daemon%20signs;serial="), listed.out)
        XCTAssertTrue(listed.out.contains(";id=%01: O=UBND"), listed.out)

        // --json: the direct listing's shape and values (the tool, given SoftHSM2's configuration
        // and no daemon, lists the same token itself); the heading goes to standard error.
        let viaDaemon = runProgram(program, ["list", "--json", "--module", Self.module, "--socket", daemon.socket], environment: blind)
        XCTAssertEqual(viaDaemon.status, 0, viaDaemon.err)
        XCTAssertTrue(viaDaemon.err.contains("listed by gatewayd"), viaDaemon.err)
        let direct = runProgram(program, ["list", "--json", "--module", Self.module, "--socket", directory + "/nobody.sock"],
                                environment: ["SOFTHSM2_CONF": directory + "/softhsm2.conf"])
        XCTAssertEqual(direct.status, 0, direct.err)
        let (fromDaemon, fromTool) = (try XCTUnwrap(parsed(viaDaemon.out), viaDaemon.out), try XCTUnwrap(parsed(direct.out), direct.out))
        XCTAssertEqual(Set(fromDaemon.keys), ["piv", "pkcs11"])
        XCTAssertEqual(Set(fromDaemon.keys), Set(fromTool.keys))
        XCTAssertEqual(fromDaemon["pkcs11"] as? NSArray, fromTool["pkcs11"] as? NSArray, viaDaemon.out + direct.out)
        let certificate = (((fromDaemon["pkcs11"] as? [[String: Any]])?.first?["tokens"] as? [[String: Any]])?.first?["certificates"] as? [[String: Any]])?.first
        XCTAssertTrue((certificate?["slot"] as? String)?.hasSuffix(";id=%01") == true, viaDaemon.out)

        // `gatewayd token list` is the same command.
        let byGatewayd = runProgram(RunningDaemon.binary, ["token", "list", "--module", Self.module, "--socket", daemon.socket], environment: blind)
        XCTAssertEqual(byGatewayd.status, 0, byGatewayd.err)
        XCTAssertTrue(byGatewayd.out.hasPrefix("Danh sách do gatewayd đọc") && byGatewayd.out.contains(";id=%01: O=UBND"), byGatewayd.out)

        // Without --module: the daemon's configured modules all the same (it lists what it serves).
        let plain = runProgram(program, ["list", "--socket", daemon.socket], environment: blind)
        XCTAssertEqual(plain.status, 0, plain.err)
        XCTAssertTrue(plain.out.contains("Daemon signs"), plain.out)
    }

    /// A `--module` the daemon is not configured with is said plainly, and not loaded by it.
    func testListingAModuleTheDaemonDoesNotLoadSaysSo() throws {
        let copy = directory + "/copied-softhsm2.so"
        try FileManager.default.copyItem(atPath: URL(fileURLWithPath: Self.module).resolvingSymlinksInPath().path, toPath: copy)
        let listed = runProgram(program, ["list", "--module", copy, "--socket", daemon.socket], environment: blind)
        XCTAssertEqual(listed.status, 0, listed.err)
        XCTAssertTrue(listed.out.contains("PKCS#11 \(copy): gatewayd không nạp") && listed.out.contains("does not load this module"), listed.out)
        XCTAssertFalse(listed.out.contains("PKCS#11 \(copy): 1 token"), listed.out)
        let json = runProgram(program, ["list", "--json", "--module", copy, "--socket", daemon.socket], environment: blind)
        XCTAssertEqual(json.status, 0, json.err)
        XCTAssertTrue(json.err.contains("does not load this module"), json.err)
        XCTAssertNotNil(parsed(json.out), json.out)
    }

    /// `change-pin` through the daemon: the PIN is changed on the token the daemon holds, the new
    /// PIN then signs through it and the old one is `wrong_pin`; a wrong current PIN is refused
    /// with the console's code and changes nothing.
    func testChangePINGoesThroughTheDaemon() throws {
        let (current, new, wrong) = (try pinFile("pin.softhsm-user"), try pinFile("pin.softhsm-letters"), try pinFile("pin.softhsm-wrong"))
        // Blind and alone, the tool cannot reach the token.
        let alone = runProgram(program, ["change-pin", "--pkcs11", Self.uri, "--module", Self.module, "--socket", directory + "/nobody.sock",
                                         "--pin-file", current, "--new-pin-file", new], environment: blind)
        XCTAssertNotEqual(alone.status, 0, alone.out)

        let refused = runProgram(program, ["change-pin", "--pkcs11", Self.uri, "--module", Self.module, "--socket", daemon.socket,
                                           "--pin-file", wrong, "--new-pin-file", new], environment: blind)
        XCTAssertEqual(refused.status, 1, refused.out + refused.err)
        XCTAssertTrue(refused.err.contains("Sai mã PIN") && refused.err.contains("wrong_pin"), refused.err)
        XCTAssertEqual(logged("token PIN change refused"), 1, logText(daemon.logPath))

        let changed = runProgram(program, ["change-pin", "--pkcs11", Self.uri, "--module", Self.module, "--socket", daemon.socket,
                                           "--pin-file", current, "--new-pin-file", new], environment: blind)
        XCTAssertEqual(changed.status, 0, changed.out + changed.err + logText(daemon.logPath))
        XCTAssertTrue(changed.out.contains("PIN changed by gatewayd"), changed.out)
        XCTAssertEqual(logged("token PIN changed"), 1, logText(daemon.logPath))
        let log = try String(contentsOfFile: daemon.logPath, encoding: .utf8)
        XCTAssertFalse(log.contains(TestSecrets.value("pin.softhsm-user")) || log.contains(TestSecrets.value("pin.softhsm-letters")), "a PIN in the daemon's log")

        let file = try document("sau-khi-doi.txt", "Ký bằng mã PIN mới")
        let signed = runProgram(program, ["sign", "--pkcs11", Self.uri, "--socket", daemon.socket, "--pin-file", new, "--in", file, "--out", file + ".sig"],
                                environment: blind)
        XCTAssertEqual(signed.status, 0, signed.err)
        XCTAssertTrue(verified(file + ".sig", file), "the new PIN signs through the daemon")
        let old = runProgram(program, ["sign", "--pkcs11", Self.uri, "--socket", daemon.socket, "--pin-file", current, "--in", file, "--out", file + ".old.sig"],
                             environment: blind)
        XCTAssertEqual(old.status, 1, old.err)
        XCTAssertTrue(old.err.contains("wrong_pin"), old.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file + ".old.sig"))
    }
}
