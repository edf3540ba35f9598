import Foundation
import TestSupport
import XCTest

/// The token commands with `--pkcs11` on the SoftHSM2 token of `SoftHSMTests`: `gateway-token
/// sign` makes a raw signature openssl verifies (what scripts/bench-pkcs11 times), and
/// `change-pin --pkcs11` changes the PIN the next `sign` needs; several files are signed in one
/// login, and a batch that cannot be read spends no try.
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

    /// `sign --in A B C --out …` with --pkcs11: one C_Login and one C_Logout for all the files
    /// (counted by OpenSC's pkcs11-spy between the command and SoftHSM2), each signature verified;
    /// files and outputs that do not pair, or a file that cannot be read, stop before any try.
    func testGatewayTokenSignsSeveralFilesInOneLogin() throws {
        let program = repositoryRoot.appendingPathComponent(".build/debug/gateway-token").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: program), "needs \(program) (swift build)")
        let spy = "/usr/lib/x86_64-linux-gnu/pkcs11-spy.so"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: spy), "needs OpenSC's pkcs11-spy (opensc-pkcs11)")
        let pin = "\(directory!)/pin"
        try (TestSecrets.value("pin.softhsm-user") + "\n").write(toFile: pin, atomically: true, encoding: .utf8)
        let inputs = (1...3).map { "\(directory!)/van-ban-\($0).txt" }
        for (index, input) in inputs.enumerated() { try "Văn bản số \(index + 1)/UBND".write(toFile: input, atomically: true, encoding: .utf8) }
        let outputs = inputs.map { $0 + ".sig" }
        let log = "\(directory!)/spy.log"
        func sign(_ inputs: [String], _ outputs: [String]) -> (status: Int32, out: String, err: String) {
            try? FileManager.default.removeItem(atPath: log)
            return runProgram(program, ["sign", "--pkcs11", "pkcs11:token=Nguyen%20Van%20An;id=%01", "--module", spy, "--pin-file", pin,
                                        "--in"] + inputs + ["--out"] + outputs,
                              environment: ["PKCS11SPY": Self.module, "PKCS11SPY_OUTPUT": log])
        }
        func calls(_ name: String) -> Int {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.hasSuffix(": \(name)") }.count
        }

        let signed = sign(inputs, outputs)
        XCTAssertEqual(signed.status, 0, signed.err)
        XCTAssertEqual([calls("C_Login"), calls("C_Logout"), calls("C_SignInit")], [1, 1, 3])
        try tool("/usr/bin/openssl", ["x509", "-in", ecdsa.chain, "-pubkey", "-noout", "-out", "\(directory!)/public.pem"])
        for (input, output) in zip(inputs, outputs) {
            let verified = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-verify", "\(directory!)/public.pem", "-signature", output, input])
            XCTAssertTrue(verified.out.contains("Verified OK"), input + ": " + verified.out + verified.err)
        }

        for output in outputs { try FileManager.default.removeItem(atPath: output) }
        let unpaired = sign(inputs, Array(outputs.prefix(2)))
        XCTAssertEqual(unpaired.status, 64, unpaired.err)
        XCTAssertTrue(unpaired.err.contains("--in and --out must name as many files"), unpaired.err)
        let unreadable = sign([inputs[0], "\(directory!)/khong-co.txt"], Array(outputs.prefix(2)))
        XCTAssertEqual(unreadable.status, 1)
        XCTAssertTrue(unreadable.err.contains("khong-co.txt"), unreadable.err)
        XCTAssertEqual(calls("C_Login"), 0)
        XCTAssertFalse(outputs.contains { FileManager.default.fileExists(atPath: $0) })
        let piv = runProgram(program, ["sign", "--in"] + inputs + ["--out"] + outputs)
        XCTAssertEqual(piv.status, 64, piv.err)
        XCTAssertTrue(piv.err.contains("several files at once need --pkcs11"), piv.err)
    }
}
