import Crypto
import Foundation
import GatewayCore
import SessionTokens
import Signing
import TestSupport
@testable import TokenDriver
import XCTest

/// A PKCS#11 token's PIN is the token's to judge, not PIV's 6–8 digits (issue 18): on
/// SoftHSMTests' token (SoftHSM2 takes 4 to 255 bytes), a PIN with letters and 12 long is set
/// through the console's route and through `gateway-token change-pin --pkcs11`, and signs; a new
/// PIN below the token's minimum is refused before any try, and the old PIN still signs.
extension SoftHSMTests {
    func entered(_ name: String) -> EnteredPIN { EnteredPIN.text(TestSecrets.value(name)) }

    func tokenInfo(_ module: PKCS11Module) throws -> PKCS11Module.TokenInfo {
        try XCTUnwrap(module.slots().first { $0.token?.label == Self.label }?.token)
    }

    /// One signature through the stage's tokens with `pin` (a session: the bytes lent as they are),
    /// verified; nil when it signed, else the failure's code.
    func signInASession(_ tokens: BoxSigningTokens, pin: String) async throws -> String? {
        let opened = try await tokens.open(reader: nil, key: "pkcs11:token=Nguyen%20Van%20An;id=%01", pin: sessionPIN(pin), confirmLastTry: false)
        defer { opened.close() }
        let message = Array("Quyết định số 12/QĐ-UBND".utf8)
        let signature: [UInt8]
        do { signature = try await opened.signer.sign(digest: Array(SHA256.hash(data: message)), algorithm: .ecdsaSHA256) } catch {
            return (error as? SessionTokenFailure)?.code ?? "\(error)"
        }
        let publicKey = try XCTUnwrap(P256.Signing.PublicKey(opened.signer.certificateChain[0].publicKey))
        XCTAssertTrue(publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: signature), for: message))
        return nil
    }

    func testALetteredPINOutsidePIVsLengthsWithinTheTokensIsSetAndSigns() async throws {
        let module = try PKCS11Module.load(path: Self.module)
        XCTAssertEqual(try tokenInfo(module).pinLengths, 4...255, "SoftHSM2's ulMinPinLen…ulMaxPinLen")
        let letters = TestSecrets.value("pin.softhsm-letters")
        XCTAssertThrowsError(try PIN(letters), "not a PIV PIN")

        // The console's route (SigningStage → BoxSigningTokens → C_SetPIN).
        let tokens = BoxSigningTokens(modules: [Self.module], table: TokenModuleTable())
        try await tokens.changePIN(reader: nil, key: "pkcs11:token=Nguyen%20Van%20An;id=%01", current: sessionPIN("pin.softhsm-user"),
                                   new: sessionPIN("pin.softhsm-letters"), confirmLastTry: false)
        let withLetters = try await signInASession(tokens, pin: "pin.softhsm-letters")
        XCTAssertNil(withLetters, "the new PIN signs")
        let withOld = try await signInASession(tokens, pin: "pin.softhsm-user")
        XCTAssertEqual(withOld, "wrong_pin", "the old PIN no longer signs")

        // The command line: `sign --pkcs11` with that PIN, then `change-pin --pkcs11` back from it.
        let program = repositoryRoot.appendingPathComponent(".build/debug/gateway-token").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: program), "needs \(program) (swift build)")
        func pinFile(_ name: String) throws -> String {
            let path = "\(directory!)/\(name)"
            try (TestSecrets.value(name) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let key = ["--pkcs11", "pkcs11:token=Nguyen%20Van%20An;id=%01", "--module", Self.module]
        let input = "\(directory!)/quyet-dinh.txt", signature = "\(directory!)/quyet-dinh.sig"
        try "Quyết định số 12/QĐ-UBND".write(toFile: input, atomically: true, encoding: .utf8)
        let signed = runProgram(program, ["sign"] + key + ["--pin-file", try pinFile("pin.softhsm-letters"), "--in", input, "--out", signature])
        XCTAssertEqual(signed.status, 0, signed.err)
        try tool("/usr/bin/openssl", ["x509", "-in", ecdsa.chain, "-pubkey", "-noout", "-out", "\(directory!)/public.pem"])
        let verified = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-verify", "\(directory!)/public.pem", "-signature", signature, input])
        XCTAssertTrue(verified.out.contains("Verified OK"), verified.out + verified.err)
        // `gatewayd sign --signer pkcs11:` takes the lettered PIN too (PAdES, judged by pdfsig).
        let gatewayd = repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: gatewayd), "needs \(gatewayd) (swift build)")
        let pdf = "\(directory!)/to-trinh.pdf", signedPDF = "\(directory!)/to-trinh-signed.pdf"
        try Data(SamplePDF.bytes("To trinh")).write(to: URL(fileURLWithPath: pdf))
        let daemonSigned = runProgram(gatewayd, ["sign", pdf, "--signer", "pkcs11:token=Nguyen%20Van%20An;id=%01?module-path=\(Self.module)",
                                                 "--pin-file", try pinFile("pin.softhsm-letters"), "--out", signedPDF])
        XCTAssertEqual(daemonSigned.status, 0, daemonSigned.out + daemonSigned.err)
        let pdfsig = runProgram("/usr/bin/pdfsig", [signedPDF])
        XCTAssertTrue(pdfsig.out.contains("Signature Validation: Signature is Valid."), "\(pdfsig.out) \(pdfsig.err)")
        let back = runProgram(program, ["change-pin"] + key + ["--pin-file", try pinFile("pin.softhsm-letters"), "--new-pin-file", try pinFile("pin.softhsm-user")])
        XCTAssertEqual(back.status, 0, back.err)
        // Signed by another process: this one's SoftHSM2 keeps the PIN it set itself and answers
        // wrong_pin to the one another process set after (seen here; the daemon is the only
        // process that opens a token, docs/tokens.md).
        let again = runProgram(program, ["sign"] + key + ["--pin-file", try pinFile("pin.softhsm-user"), "--in", input, "--out", signature])
        XCTAssertEqual(again.status, 0, "changed back by the command, the first PIN signs: \(again.err)")
    }

    /// Given with a wrong current PIN, so that a C_Login would show: SoftHSM2 sets
    /// CKF_USER_PIN_COUNT_LOW after a wrong one (the control at the end), and it stays clear.
    func testANewPINBelowTheTokensMinimumIsRefusedBeforeAnyTry() async throws {
        let module = try PKCS11Module.load(path: Self.module)
        let changer = try PKCS11PINChanger(module: module, uri: PKCS11URI("pkcs11:token=Nguyen%20Van%20An"))
        let short = entered("pin.softhsm-short")
        XCTAssertThrowsError(try changer.checkNew(short)) { XCTAssertEqual($0 as? PKCS11Error, .pinLength(count: 3, allowed: 4...255)) }
        XCTAssertThrowsError(try changer.changePIN(old: entered("pin.softhsm-wrong"), new: short, force: false)) {
            XCTAssertEqual($0 as? PKCS11Error, .pinLength(count: 3, allowed: 4...255))
            XCTAssertEqual(($0 as? PKCS11Error)?.description,
                           "Mã PIN của token này phải dài từ 4 đến 255 ký tự (đã nhập 3). / This token's PIN must be 4 to 255 characters long (3 given).")
        }
        XCTAssertFalse(try tokenInfo(module).pinCountLow, "no C_Login was sent")

        let tokens = BoxSigningTokens(modules: [Self.module], table: TokenModuleTable())
        do {
            try await tokens.changePIN(reader: nil, key: "pkcs11:token=Nguyen%20Van%20An", current: sessionPIN("pin.softhsm-wrong"),
                                       new: sessionPIN("pin.softhsm-short"), confirmLastTry: false)
            XCTFail("a PIN below the token's minimum was set")
        } catch {
            XCTAssertEqual(error.code, "pin_format")
            XCTAssertTrue(error.description.contains("từ 4 đến 255"), error.description)
        }
        let program = repositoryRoot.appendingPathComponent(".build/debug/gateway-token").path
        if FileManager.default.isExecutableFile(atPath: program) {
            let (old, new) = ("\(directory!)/old-pin", "\(directory!)/new-pin")
            try (TestSecrets.value("pin.softhsm-wrong") + "\n").write(toFile: old, atomically: true, encoding: .utf8)
            try (TestSecrets.value("pin.softhsm-short") + "\n").write(toFile: new, atomically: true, encoding: .utf8)
            let refused = runProgram(program, ["change-pin", "--pkcs11", "pkcs11:token=Nguyen%20Van%20An", "--module", Self.module,
                                               "--pin-file", old, "--new-pin-file", new])
            XCTAssertEqual(refused.status, 1)
            XCTAssertTrue(refused.err.contains("phải dài từ 4 đến 255 ký tự"), refused.err)
        }
        XCTAssertFalse(try tokenInfo(module).pinCountLow, "still no C_Login sent")
        let withOld = try await signInASession(tokens, pin: "pin.softhsm-user")
        XCTAssertNil(withOld, "the old PIN still signs")

        // The control: a wrong current PIN with a new one the token takes is tried, and shows.
        XCTAssertThrowsError(try changer.changePIN(old: entered("pin.softhsm-wrong"), new: entered("pin.softhsm-letters"), force: false)) {
            XCTAssertEqual($0 as? PKCS11Error, .pinIncorrect(after: .low))
        }
        XCTAssertTrue(try tokenInfo(module).pinCountLow)
    }
}

/// PIV keeps its rule: 6 to 8 digits, checked before the card is connected (a connection here
/// would throw a transport error instead).
final class PIVPINChangeRuleTests: XCTestCase {
    func testPIVStillTakesSixToEightDigitsOnly() {
        let changer = PIVPINChanger(reader: "no reader") { throw PCSCError.noSmartcard }
        func entered(_ text: String) -> EnteredPIN { EnteredPIN.text(text) }
        let right = entered(TestSecrets.value("pin.virtual-card"))
        for (text, expected) in [(TestSecrets.value("pin.softhsm-letters"), PIN.FormatError.notDigits),
                                 (TestSecrets.value("pin.malformed-2"), .wrongLength(5)), (TestSecrets.value("pin.malformed-3"), .wrongLength(9))] {
            XCTAssertThrowsError(try changer.checkNew(entered(text))) { XCTAssertEqual($0 as? PIVToken.Failure, .pinFormat(expected)) }
            XCTAssertThrowsError(try changer.changePIN(old: right, new: entered(text), force: false)) {
                XCTAssertEqual($0 as? PIVToken.Failure, .pinFormat(expected))
            }
        }
        XCTAssertThrowsError(try changer.changePIN(old: right, new: entered(TestSecrets.value("pin.virtual-card-new")), force: false)) {
            XCTAssertEqual($0 as? PIVToken.Failure, .transport(.noSmartcard), "a PIV PIN goes on to the card")
        }
    }
}
