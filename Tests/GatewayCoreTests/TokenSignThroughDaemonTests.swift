import Foundation
import TestSupport
import XCTest
@testable import GatewayCore

/// Issue 18, "the daemon is the only process that opens a token": with gatewayd running and its
/// `[tokens] modules` naming SoftHSM2, `gateway-token sign --pkcs11` goes through the daemon's
/// socket. The tool runs with `SOFTHSM2_CONF` naming a file that does not exist, so it could not
/// open the token itself: whatever it signs, the daemon signed. openssl judges the signatures
/// against the token's certificate.
final class TokenSignThroughDaemonTests: XCTestCase {
    static let module = "/usr/lib/softhsm/libsofthsm2.so"
    static let uri = "pkcs11:token=Daemon%20signs;id=%01"
    var directory = ""
    var daemon: RunningDaemon!
    var program: String { repositoryRoot.appendingPathComponent(".build/debug/gateway-token").path }
    /// The tool's environment: no SoftHSM2 configuration it could open the token with.
    var blind: [String: String] { ["SOFTHSM2_CONF": directory + "/no-such-softhsm2.conf"] }

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.module) && FileManager.default.isExecutableFile(atPath: "/usr/bin/softhsm2-util")
                          && FileManager.default.isExecutableFile(atPath: "/usr/bin/pkcs11-tool"), "needs softhsm2 and opensc (scripts/install-deps)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd (swift build)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: program), "needs .build/debug/gateway-token (swift build)")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-token-daemon-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/tokens", withIntermediateDirectories: true)
        let configuration = directory + "/softhsm2.conf"
        try "directories.tokendir = \(directory)/tokens\nobjectstore.backend = file\nlog.level = ERROR\n"
            .write(toFile: configuration, atomically: true, encoding: .utf8)
        let softHSM = ["SOFTHSM2_CONF": configuration]
        let pin = TestSecrets.value("pin.softhsm-user")
        func tool(_ executable: String, _ arguments: [String]) throws {
            let result = runProgram(executable, arguments, environment: softHSM)
            guard result.status == 0 else { throw TestPKI.Failure(description: "\(executable) \(arguments.first ?? ""): \(result.out) \(result.err)") }
        }
        let pki = try TestPKI(directory: directory)
        let holder = try pki.issue("holder", key: .p256)
        try tool("/usr/bin/softhsm2-util", ["--init-token", "--free", "--label", "Daemon signs", "--pin", pin, "--so-pin", TestSecrets.value("pin.softhsm-so")])
        try tool("/usr/bin/openssl", ["pkcs8", "-topk8", "-nocrypt", "-in", holder.key, "-out", directory + "/holder.p8"])
        try tool("/usr/bin/softhsm2-util", ["--import", directory + "/holder.p8", "--token", "Daemon signs", "--label", "holder", "--id", "01", "--pin", pin])
        try tool("/usr/bin/openssl", ["x509", "-in", holder.chain, "-outform", "DER", "-out", directory + "/holder.der"])
        try tool("/usr/bin/pkcs11-tool", ["--module", Self.module, "--token-label", "Daemon signs", "--login", "--pin", pin,
                                          "--write-object", directory + "/holder.der", "--type", "cert", "--id", "01", "--label", "holder"])
        try tool("/usr/bin/openssl", ["x509", "-in", holder.chain, "-pubkey", "-noout", "-out", directory + "/public.pem"])
        try? FileManager.default.removeItem(atPath: directory + "/holder.p8")
        // SoftHSM2's configuration reaches the daemon alone, through its environment.
        daemon = try RunningDaemon(config: "[intake]\ndisk_reserve = 0\n\n[tokens]\nmodules = [\"\(Self.module)\"]\n", environment: softHSM)
        try await daemon.waitUntilReady()
    }

    override func tearDown() async throws {
        daemon?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func pinFile(_ name: String) throws -> String {
        let path = "\(directory)/\(name)"
        try (TestSecrets.value(name) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func document(_ name: String, _ text: String) throws -> String {
        let path = "\(directory)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func verified(_ signature: String, _ file: String, digest: String = "-sha256") -> Bool {
        runProgram("/usr/bin/openssl", ["dgst", digest, "-verify", directory + "/public.pem", "-signature", signature, file]).out.contains("Verified OK")
    }

    func logged(_ line: String) -> Int {
        ((try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? "").components(separatedBy: line).count - 1
    }

    func testTwoFilesAreSignedByTheDaemonInOneRequest() throws {
        let (a, b) = (try document("quyet-dinh.txt", "Quyết định số 12/QĐ-UBND"), try document("to-trinh.txt", "Tờ trình số 3"))
        // Without the daemon the tool cannot sign here: its SoftHSM2 has no configuration.
        let alone = runProgram(program, ["sign", "--pkcs11", Self.uri, "--module", Self.module, "--socket", directory + "/nobody.sock",
                                         "--pin-file", try pinFile("pin.softhsm-user"), "--in", a, "--out", a + ".alone.sig"], environment: blind)
        XCTAssertNotEqual(alone.status, 0, "the tool opened the token without SoftHSM2's configuration: \(alone.err)")

        let signed = runProgram(program, ["sign", "--pkcs11", Self.uri, "--module", Self.module, "--socket", daemon.socket,
                                          "--algorithm", "ecdsa-sha256", "--pin-file", try pinFile("pin.softhsm-user"),
                                          "--in", a, b, "--out", a + ".sig", b + ".sig"], environment: blind)
        XCTAssertEqual(signed.status, 0, signed.err + logText(daemon.logPath))
        XCTAssertTrue(verified(a + ".sig", a), "openssl verifies the first signature with the token's certificate")
        XCTAssertTrue(verified(b + ".sig", b), "and the second")
        XCTAssertEqual(logged("token digests signed"), 1, "one request for both: " + logText(daemon.logPath))
        XCTAssertTrue(try String(contentsOfFile: daemon.logPath, encoding: .utf8).contains("count=2"), logText(daemon.logPath))

        // GATEWAYD_SOCKET instead of --socket, and no --algorithm: the key's preferred one, learnt
        // from the daemon (P-256: ecdsa-sha256) before the PIN is read.
        let c = try document("cong-van.txt", "Công văn số 45")
        let byVariable = runProgram(program, ["sign", "--pkcs11", Self.uri, "--pin-file", try pinFile("pin.softhsm-user"), "--in", c, "--out", c + ".sig"],
                                    environment: blind.merging(["GATEWAYD_SOCKET": daemon.socket]) { $1 })
        XCTAssertEqual(byVariable.status, 0, byVariable.err)
        XCTAssertTrue(verified(c + ".sig", c))
        XCTAssertFalse(try String(contentsOfFile: daemon.logPath, encoding: .utf8).contains(TestSecrets.value("pin.softhsm-user")), "a PIN in the daemon's log")
    }

    func testAWrongPINIsNamedAndWritesNothing() throws {
        let (a, b) = (try document("a.txt", "một"), try document("b.txt", "hai"))
        let refused = runProgram(program, ["sign", "--pkcs11", Self.uri, "--module", Self.module, "--socket", daemon.socket,
                                           "--algorithm", "ecdsa-sha256", "--pin-file", try pinFile("pin.softhsm-wrong"),
                                           "--in", a, b, "--out", a + ".sig", b + ".sig"], environment: blind)
        XCTAssertEqual(refused.status, 1, refused.err)
        XCTAssertTrue(refused.err.contains("Sai mã PIN") && refused.err.contains("wrong PIN") && refused.err.contains("wrong_pin"), refused.err)
        XCTAssertTrue(refused.err.contains("Chưa ký / not signed: \(a), \(b)"), refused.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: a + ".sig") || FileManager.default.fileExists(atPath: b + ".sig"), "no signature written")
        XCTAssertEqual(logged("token digests stopped"), 1, logText(daemon.logPath))
        // SoftHSM2 counts no tries; the right PIN signs after it.
        let signed = runProgram(program, ["sign", "--pkcs11", Self.uri, "--socket", daemon.socket, "--pin-file", try pinFile("pin.softhsm-user"),
                                          "--in", a, "--out", a + ".sig"], environment: blind)
        XCTAssertEqual(signed.status, 0, signed.err)
        XCTAssertTrue(verified(a + ".sig", a))
    }

    /// `gatewayd sign --signer pkcs11:…` goes through the daemon too: a CAdES signature made while
    /// the command could not open the token itself, which openssl cms verifies against the test
    /// PKI's root; a wrong PIN is the daemon's `wrong_pin`, and no signature file is left.
    func testGatewaydSignGoesThroughTheDaemon() throws {
        let file = try document("cong-van.txt", "Công văn số 45/UBND-VP")
        let signed = runProgram(RunningDaemon.binary, ["sign", file, "--signer", Self.uri, "--module", Self.module, "--socket", daemon.socket,
                                                       "--pin-file", try pinFile("pin.softhsm-user"), "--out", file + ".p7s"], environment: blind)
        XCTAssertEqual(signed.status, 0, signed.out + signed.err)
        let cms = runProgram("/usr/bin/openssl", ["cms", "-verify", "-binary", "-inform", "DER", "-in", file + ".p7s", "-content", file,
                                                  "-CAfile", directory + "/root.pem", "-purpose", "any", "-out", "/dev/null"])
        XCTAssertEqual(cms.status, 0, cms.err)
        XCTAssertEqual(logged("token digests signed"), 1, logText(daemon.logPath))

        let refused = runProgram(RunningDaemon.binary, ["sign", file, "--signer", Self.uri, "--socket", daemon.socket,
                                                        "--pin-file", try pinFile("pin.softhsm-wrong"), "--out", file + ".wrong.p7s"], environment: blind)
        XCTAssertEqual(refused.status, 1, refused.out + refused.err)
        XCTAssertTrue(refused.err.contains("Sai mã PIN") && refused.err.contains("wrong_pin"), refused.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file + ".wrong.p7s"))
    }

    /// A `module-path=` in a request's URI must be a module `[tokens]` names: otherwise anyone who
    /// may reach the socket could make the daemon load a library of their choice. Here a copy of
    /// SoftHSM2 at a path the configuration does not name.
    func testAModuleTheDaemonIsNotConfiguredWithIsRefused() throws {
        let copy = directory + "/copied-softhsm2.so"
        // The library itself (Debian's path is a symlink, which copyItem would copy as a link).
        try FileManager.default.copyItem(atPath: URL(fileURLWithPath: Self.module).resolvingSymlinksInPath().path, toPath: copy)
        let a = try document("a.txt", "một")
        let answer = runProgram(program, ["sign", "--pkcs11", Self.uri, "--module", copy, "--socket", daemon.socket, "--algorithm", "ecdsa-sha256",
                                          "--pin-file", try pinFile("pin.softhsm-user"), "--in", a, "--out", a + ".sig"], environment: blind)
        XCTAssertEqual(answer.status, 1, answer.err)
        XCTAssertTrue(answer.err.contains("module-path=\(copy)") && answer.err.contains("not loaded"), answer.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: a + ".sig"))
    }
}
