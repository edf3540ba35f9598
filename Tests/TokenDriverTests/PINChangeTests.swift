import Foundation
import Signing
import TestSupport
@testable import TokenDriver
import XCTest

/// `token change-pin` on the virtual PIV card through pcscd (CHANGE REFERENCE DATA): the PIN
/// changed by the command signs next; a wrong current PIN costs exactly one try on the card's own
/// counter and changes nothing; the final try and a malformed new PIN send nothing.
final class PIVPINChangeTests: XCTestCase {
    var card: VirtualCard?
    var context: PCSCContext!
    var directory: String { card!.directory }
    static let newPIN = TestSecrets.value("pin.virtual-card-new")

    override func setUp() async throws { context = try VirtualCard.requirements() }
    override func tearDown() async throws { card?.remove(context) }

    /// The card in the first virtual reader, seen by pcscd; its reader's name.
    func insert(_ extra: [String] = []) throws -> String {
        card = try VirtualCard(["--no-extended"] + extra)
        try VirtualReader.connectWhenPresent(context).disconnect()
        return try VirtualReader.reader(context)
    }

    func cardState() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/state.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func pinFile(_ name: String, _ pin: String) throws -> String {
        let path = directory + "/\(name)"
        try (pin + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func changePIN(reader: String, old: String, new: String, _ extra: [String] = []) throws -> (status: Int32, out: String, err: String) {
        let program = repositoryRoot.appendingPathComponent(".build/debug/gateway-token").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: program), "needs \(program) (swift build)")
        return runProgram(program, ["change-pin", "--reader", reader, "--pin-file", try pinFile("old-pin", old), "--new-pin-file", try pinFile("new-pin", new)] + extra)
    }

    func testChangedPINSignsNext() throws {
        let reader = try insert()
        let changed = try changePIN(reader: reader, old: VirtualCard.pin, new: Self.newPIN)
        XCTAssertEqual(changed.status, 0, changed.err)
        XCTAssertTrue(changed.out.contains("Đã đổi mã PIN / PIN changed: \(reader)"), changed.out)
        XCTAssertEqual(try cardState()["pin"] as? String, Self.newPIN, "the card's own PIN")
        XCTAssertEqual(try cardState()["tries"] as? Int, 3)

        let message = directory + "/quyết định.txt"
        try "Quyết định số 7/QĐ-UBND".write(toFile: message, atomically: true, encoding: .utf8)
        let signer = try PIVSigner(reader: reader, slot: .signature) { try PIN(Self.newPIN) }
        let signature = try signer.signNow(digest: try FileDigest.compute(path: message, algorithm: .sha256), algorithm: .ecdsaSHA256)
        try Data(signature).write(to: URL(fileURLWithPath: directory + "/signature"))
        XCTAssertEqual(runProgram("/usr/bin/openssl", ["x509", "-in", directory + "/cert-9c.pem", "-pubkey", "-noout", "-out", directory + "/public.pem"]).status, 0)
        let verified = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-verify", directory + "/public.pem", "-signature", directory + "/signature", message])
        XCTAssertTrue(verified.out.contains("Verified OK"), verified.out + verified.err)
        // The old PIN is no longer the card's.
        let old = try PIVSigner(reader: reader, slot: .signature) { try PIN(VirtualCard.pin) }
        XCTAssertThrowsError(try old.signNow(digest: DigestAlgorithm.sha256.hash([1]), algorithm: .ecdsaSHA256)) {
            XCTAssertEqual($0 as? PIVToken.Failure, .pinIncorrect(triesLeft: 2))
        }
    }

    func testWrongCurrentPINCostsOneTryAndChangesNothing() throws {
        let reader = try insert()
        let changed = try changePIN(reader: reader, old: VirtualCard.wrongPIN, new: Self.newPIN)
        XCTAssertEqual(changed.status, 1)
        XCTAssertTrue(changed.err.contains("Mã PIN sai, còn 2 lần thử. / Wrong PIN, 2 tries left."), changed.err)
        XCTAssertEqual(try cardState()["tries"] as? Int, 2, "exactly one try spent")
        XCTAssertEqual(try cardState()["pin"] as? String, VirtualCard.pin, "the PIN is unchanged")
        // Through the driver's function (the console's way) the same: one more try, nothing changed.
        let changer = PIVPINChanger(reader: reader)
        XCTAssertThrowsError(try changer.changePIN(old: try PIN(VirtualCard.wrongPIN), new: try PIN(Self.newPIN), force: false)) {
            XCTAssertEqual($0 as? PIVToken.Failure, .pinIncorrect(triesLeft: 1))
        }
        // One try left: refused before anything is sent, even with the right PIN; --force spends it.
        XCTAssertThrowsError(try changer.changePIN(old: try PIN(VirtualCard.pin), new: try PIN(Self.newPIN), force: false)) {
            XCTAssertEqual($0 as? PIVToken.Failure, .lastTryRefused)
        }
        let refused = try changePIN(reader: reader, old: VirtualCard.pin, new: Self.newPIN)
        XCTAssertTrue(refused.err.contains("Chỉ còn 1 lần thử mã PIN"), refused.err)
        XCTAssertEqual(try cardState()["tries"] as? Int, 1)
        let forced = try changePIN(reader: reader, old: VirtualCard.pin, new: Self.newPIN, ["--force"])
        XCTAssertEqual(forced.status, 0, forced.err)
        XCTAssertEqual(try cardState()["tries"] as? Int, 3)
        XCTAssertEqual(try cardState()["pin"] as? String, Self.newPIN)
    }

    /// A new PIN that is no PIV PIN (5 digits, letters), or the current one again, is refused by
    /// the command before the card is touched.
    func testMalformedOrUnchangedNewPINSendsNothing() throws {
        let reader = try insert()
        for (new, message) in [(TestSecrets.value("pin.malformed-2"), "Mã PIN phải có từ 6 đến 8 chữ số"),
                               (TestSecrets.value("pin.malformed-4"), "Mã PIN chỉ gồm chữ số 0–9"),
                               (VirtualCard.pin, "the new PIN is the current one")] {
            let refused = try changePIN(reader: reader, old: VirtualCard.pin, new: new)
            XCTAssertEqual(refused.status, 1)
            XCTAssertTrue(refused.err.contains(message), refused.err)
        }
        XCTAssertEqual(try cardState()["tries"] as? Int, 3)
        XCTAssertEqual(try cardState()["pin"] as? String, VirtualCard.pin)
    }
}

/// C_SetPIN on SoftHSM2 (the `SoftHSMTests` token): the changed PIN signs, the old one no longer does.
extension SoftHSMTests {
    func testCSetPINThenTheNewPINSigns() async throws {
        let module = try PKCS11Module.load(path: Self.module)
        let changer = try PKCS11PINChanger(module: module, uri: PKCS11URI("pkcs11:token=Nguyen%20Van%20An"))
        XCTAssertEqual(changer.location, "\(Self.module), token \(Self.label)")
        // A wrong current PIN changes nothing.
        XCTAssertThrowsError(try changer.changePIN(old: entered("pin.softhsm-wrong"), new: entered("pin.softhsm-new"), force: false)) {
            XCTAssertEqual($0 as? PKCS11Error, .pinIncorrect(after: .low))
        }
        try changer.changePIN(old: entered("pin.softhsm-user"), new: entered("pin.softhsm-new"), force: false)

        let uri = try PKCS11URI("pkcs11:token=Nguyen%20Van%20An;id=%01")
        let signer = try PKCS11Signer(module: module, uri: uri, pin: Self.pin("pin.softhsm-new"))
        let digest = DigestAlgorithm.sha256.hash(Array("Công văn số 9/UBND-VP".utf8))
        let signature = try await signer.sign(digest: digest, algorithm: .ecdsaSHA256)
        try Data(digest).write(to: URL(fileURLWithPath: "\(directory!)/digest"))
        try Data(signature).write(to: URL(fileURLWithPath: "\(directory!)/signature"))
        try tool("/usr/bin/openssl", ["x509", "-in", ecdsa.chain, "-pubkey", "-noout", "-out", "\(directory!)/public.pem"])
        let verified = runProgram("/usr/bin/openssl", ["pkeyutl", "-verify", "-pubin", "-inkey", "\(directory!)/public.pem",
                                                        "-in", "\(directory!)/digest", "-sigfile", "\(directory!)/signature"])
        XCTAssertTrue(verified.out.contains("Signature Verified Successfully"), verified.out + verified.err)
        let old = try PKCS11Signer(module: module, uri: uri, pin: Self.pin("pin.softhsm-user"))
        do {
            _ = try await old.sign(digest: digest, algorithm: .ecdsaSHA256)
            XCTFail("the old PIN still signs")
        } catch let error as PKCS11Error {
            XCTAssertEqual(error, .pinIncorrect(after: .low))
        }
    }
}
