import Foundation
import TestSupport
import XCTest

/// The token commands with `--pkcs11` on the SoftHSM2 token of `SoftHSMTests`: `gateway-token
/// sign` makes a raw signature openssl verifies (what scripts/bench-pkcs11 times), and
/// `change-pin --pkcs11` changes the PIN the next `sign` needs.
extension SoftHSMTests {
    func testGatewayTokenSignsAndChangesThePINWithPKCS11() throws {
        let program = repositoryRoot.appendingPathComponent(".build/debug/gateway-token").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: program), "needs \(program) (swift build)")
        let input = "\(directory!)/to-trinh.txt", signature = "\(directory!)/to-trinh.sig"
        try "Tờ trình số 3/TTr-UBND".write(toFile: input, atomically: true, encoding: .utf8)
        func pinFile(_ name: String, _ secret: String) throws -> String {
            let path = "\(directory!)/\(name)"
            try (TestSecrets.value(secret) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let current = try pinFile("pin", "pin.softhsm-user"), new = try pinFile("new-pin", "pin.softhsm-new")
        let key = ["--pkcs11", "pkcs11:token=Nguyen%20Van%20An;id=%01", "--module", Self.module]
        func sign(pin: String) -> (status: Int32, out: String, err: String) {
            runProgram(program, ["sign"] + key + ["--pin-file", pin, "--in", input, "--out", signature])
        }

        let signed = sign(pin: current)
        XCTAssertEqual(signed.status, 0, signed.err)
        try tool("/usr/bin/openssl", ["x509", "-in", ecdsa.chain, "-pubkey", "-noout", "-out", "\(directory!)/public.pem"])
        let verified = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-verify", "\(directory!)/public.pem", "-signature", signature, input])
        XCTAssertTrue(verified.out.contains("Verified OK"), verified.out + verified.err)

        let changed = runProgram(program, ["change-pin"] + key + ["--pin-file", current, "--new-pin-file", new])
        XCTAssertEqual(changed.status, 0, changed.err)
        XCTAssertTrue(changed.out.contains("Đã đổi mã PIN / PIN changed: \(Self.module), token \(Self.label)"), changed.out)
        let old = sign(pin: current)
        XCTAssertEqual(old.status, 1)
        XCTAssertTrue(old.err.contains("Mã PIN sai"), old.err)
        XCTAssertEqual(sign(pin: new).status, 0)
        let noModule = runProgram(program, ["sign", "--pkcs11", "pkcs11:token=Nguyen%20Van%20An;id=%01", "--pin-file", new, "--in", input, "--out", signature])
        XCTAssertTrue(noModule.err.contains("--module"), noModule.err)
    }
}
