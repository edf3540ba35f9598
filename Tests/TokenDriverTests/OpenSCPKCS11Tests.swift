import Foundation
import Signing
import TestSupport
@testable import TokenDriver
import XCTest

/// Issue 18, acceptance 2: OpenSC's `opensc-pkcs11.so` over the virtual PIV card in pcscd's second
/// virtual reader ("Virtual PCD 00 01", as scripts/check-opensc: OpenSC is told to ignore every
/// other reader), against our PKCS#11 backend — and the same card through our PIV backend. The
/// card's own PIN counter (its state.json, and VERIFY without data through PIVToken) is the judge
/// of what each try cost. Slot 9A is used: OpenSC marks 9C "PIN always" (CKA_ALWAYS_AUTHENTICATE),
/// whose context-specific login the PKCS#11 signer does not do yet (docs/tokens.md).
final class OpenSCPKCS11Tests: XCTestCase {
    static let modulePath = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
    static let readerName = "Virtual PCD 00 01"
    static let uri = "pkcs11:id=%01"  // OpenSC's object id of the PIV 9A key
    var card: VirtualCard?
    var context: PCSCContext!
    var directory: String { card!.directory }

    override func setUp() async throws {
        context = try VirtualCard.requirements()
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.modulePath), "needs OpenSC's opensc-pkcs11.so (scripts/install-deps installs opensc)")
        _ = try VirtualReader.reader(context, named: Self.readerName)
        // Read at the module's C_Initialize, in this process (PKCS11Module.load) and the commands'.
        setenv("OPENSC_CONF", try Self.openSCConfiguration(readers: try context.readers()), 1)
    }

    override func tearDown() async throws { card?.remove(context, reader: Self.readerName) }

    /// OpenSC limited to our reader (it never connects to cards other tests use), without its file
    /// cache (each test's card is new).
    static func openSCConfiguration(readers: [String]) throws -> String {
        let ignored = readers.filter { $0 != readerName }.map { "  ignored_readers = \"\($0)\";\n" }.joined()
        let text = "app default {\n\(ignored)  framework pkcs15 { use_file_caching = false; }\n}\n"
        let path = NSTemporaryDirectory() + "opensc-\(getpid()).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The card in the second virtual reader, seen by pcscd.
    func insert(_ extra: [String] = []) throws {
        card = try VirtualCard(["--no-extended", "--port", "35964"] + extra)
        try VirtualReader.connectWhenPresent(context, named: Self.readerName).disconnect()
    }

    func cardTriesLeft() throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/state.json"))
        return try XCTUnwrap((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["tries"] as? Int)
    }

    /// The counter as our PIV backend reads it: VERIFY without data, which costs nothing.
    func pivTriesLeft() throws -> PIVToken.PINStatus {
        let connection = try context.connect(reader: Self.readerName)
        defer { connection.disconnect() }
        let token = PIVToken(card: connection, extendedAPDUs: false)
        return try connection.withTransaction { () throws -> PIVToken.PINStatus in
            try token.select()
            return try token.pinStatus()
        }
    }

    func pkcs11Signer(pin: String) throws -> PKCS11Signer {
        try PKCS11Signer(module: try PKCS11Module.load(path: Self.modulePath), uri: try PKCS11URI(Self.uri)) { EnteredPIN.text(pin) }
    }

    func tokenInfo() throws -> PKCS11Module.TokenInfo {
        let module = try PKCS11Module.load(path: Self.modulePath)
        return try XCTUnwrap(try module.slots().compactMap(\.token).first, "OpenSC shows no token")
    }

    /// openssl's verdict on `signature` over `message` with the 9A certificate's key.
    func assertVerified(_ signature: [UInt8], message: String, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let signaturePath = directory + "/signature-\(label)"
        try Data(signature).write(to: URL(fileURLWithPath: signaturePath))
        XCTAssertEqual(runProgram("/usr/bin/openssl", ["x509", "-in", directory + "/cert-9a.pem", "-pubkey", "-noout", "-out", directory + "/public.pem"]).status, 0)
        let verified = runProgram("/usr/bin/openssl", ["dgst", "-sha256", "-verify", directory + "/public.pem", "-signature", signaturePath, message])
        XCTAssertTrue(verified.out.contains("Verified OK"), "\(label): \(verified.out) \(verified.err)", file: file, line: line)
    }

    func message() throws -> String {
        let path = directory + "/công văn.txt"
        try "Công văn số 15/UBND-VP về lịch tiếp công dân".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testTheSameCardSignsThroughPIVAndPKCS11AndOpenSSLVerifiesBoth() throws {
        for kind in ["rsa2048", "p256"] {
            try insert(["--9a", kind])
            let message = try message()
            let algorithm: SignatureAlgorithm = kind == "p256" ? .ecdsaSHA256 : .rsaPKCS1SHA256
            let digest = try FileDigest.compute(path: message, algorithm: .sha256)
            let piv = try PIVSigner(reader: Self.readerName, slot: .authentication) { try PIN(VirtualCard.pin) }
            try assertVerified(try piv.signNow(digest: digest, algorithm: algorithm), message: message, "\(kind)-piv")
            let pkcs11 = try pkcs11Signer(pin: VirtualCard.pin)
            XCTAssertEqual(pkcs11.certificate, piv.certificate, "one card, one certificate")
            try assertVerified(try pkcs11.signNow(digest: digest, algorithm: algorithm), message: message, "\(kind)-pkcs11")
            XCTAssertEqual(try cardTriesLeft(), 3)
            card?.remove(context, reader: Self.readerName)
            card = nil
        }
    }

    func testOneWrongPINThroughPKCS11CostsExactlyOneTryOnTheCard() throws {
        try insert()
        XCTAssertEqual(try pivTriesLeft(), .triesLeft(3))
        let digest = DigestAlgorithm.sha256.hash(Array("x".utf8))
        // OpenSC's PIV driver learns no maximum of tries, so it never sets COUNT_LOW (only FINAL_TRY
        // at 1 and LOCKED at 0): with 2 tries left the token says nothing more.
        XCTAssertThrowsError(try pkcs11Signer(pin: VirtualCard.wrongPIN).signNow(digest: digest, algorithm: .rsaPKCS1SHA256)) {
            XCTAssertEqual($0 as? PKCS11Error, .pinIncorrect(after: .unknown))
        }
        XCTAssertEqual(try cardTriesLeft(), 2, "the card's own counter")
        XCTAssertEqual(try pivTriesLeft(), .triesLeft(2), "as the PIV backend reads it")
        let flags = try tokenInfo()
        XCTAssertFalse(flags.pinFinalTry || flags.pinLocked)
    }

    /// Two wrong PINs leave one try: OpenSC says CKF_USER_PIN_FINAL_TRY, and our signer sends no
    /// PIN unless forced (the person confirmed); forced with the right PIN it signs.
    func testTheFinalTryNeedsConfirmation() throws {
        try insert()
        let message = try message()
        let digest = try FileDigest.compute(path: message, algorithm: .sha256)
        let wrong = try pkcs11Signer(pin: VirtualCard.wrongPIN), right = try pkcs11Signer(pin: VirtualCard.pin)
        XCTAssertThrowsError(try wrong.signNow(digest: digest, algorithm: .rsaPKCS1SHA256)) { XCTAssertEqual($0 as? PKCS11Error, .pinIncorrect(after: .unknown)) }
        XCTAssertThrowsError(try wrong.signNow(digest: digest, algorithm: .rsaPKCS1SHA256)) {
            XCTAssertEqual($0 as? PKCS11Error, .pinIncorrect(after: .finalTry))
            XCTAssertEqual(($0 as? PKCS11Error)?.description, "Mã PIN sai, còn 1 lần thử. / Wrong PIN, 1 try left.")
        }
        XCTAssertTrue(try tokenInfo().pinFinalTry, "CKF_USER_PIN_FINAL_TRY")
        XCTAssertThrowsError(try right.signNow(digest: digest, algorithm: .rsaPKCS1SHA256)) {
            XCTAssertEqual($0 as? PKCS11Error, .lastTryRefused)
            XCTAssertTrue(($0 as? PKCS11Error)?.description.hasPrefix("Chỉ còn 1 lần thử mã PIN") == true)
        }
        XCTAssertEqual(try cardTriesLeft(), 1, "refused before any PIN was sent")
        try assertVerified(try right.signNow(digest: digest, algorithm: .rsaPKCS1SHA256, force: true), message: message, "forced")
        XCTAssertEqual(try cardTriesLeft(), 3)
    }

    /// Three wrong PINs block the card: the third is refused unless forced, then CKF_USER_PIN_LOCKED
    /// with the named message, and the signer sends nothing more, forced or not.
    func testABlockedCardIsReportedLockedAndNothingIsSent() throws {
        try insert()
        let digest = DigestAlgorithm.sha256.hash(Array("y".utf8))
        let wrong = try pkcs11Signer(pin: VirtualCard.wrongPIN), right = try pkcs11Signer(pin: VirtualCard.pin)
        for _ in 0..<2 { XCTAssertThrowsError(try wrong.signNow(digest: digest, algorithm: .rsaPKCS1SHA256)) }
        XCTAssertThrowsError(try wrong.signNow(digest: digest, algorithm: .rsaPKCS1SHA256, force: true)) { XCTAssertEqual($0 as? PKCS11Error, .pinLocked) }
        XCTAssertEqual(try cardTriesLeft(), 0)
        XCTAssertTrue(try tokenInfo().pinLocked, "CKF_USER_PIN_LOCKED")
        XCTAssertThrowsError(try right.signNow(digest: digest, algorithm: .rsaPKCS1SHA256, force: true)) {
            XCTAssertEqual($0 as? PKCS11Error, .pinLocked)
            XCTAssertEqual(($0 as? PKCS11Error)?.description,
                           "Token đã bị khóa mã PIN; cần nhà cung cấp mở khóa. / The token's PIN is blocked; its provider must unblock it.")
        }
        XCTAssertEqual(try pivTriesLeft(), .blocked)
    }

    func program(_ name: String) throws -> String {
        let path = repositoryRoot.appendingPathComponent(".build/debug/\(name)").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: path), "needs \(path) (swift build)")
        return path
    }

    func pinFile(_ name: String, _ pin: String) throws -> String {
        let path = directory + "/\(name)"
        try (pin + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The card pulled out while `gatewayd sign --signer pkcs11:…` waits on its signature (the
    /// card says `signing`, then takes its time): the command names the failure and leaves no
    /// file, neither the signed PDF nor a partial one.
    func testTokenPulledMidSignatureGivesTheNamedErrorAndNoFile() throws {
        try insert(["--sign-delay-ms", "60000"])
        let gatewayd = try program("gatewayd")
        let work = directory + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try Data(SamplePDF.bytes("To trinh")).write(to: URL(fileURLWithPath: work + "/to-trinh.pdf"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gatewayd)
        process.arguments = ["sign", work + "/to-trinh.pdf", "--signer", Self.uri, "--module", Self.modulePath,
                             "--pin-file", try pinFile("pin", VirtualCard.pin), "--out", work + "/to-trinh-signed.pdf"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        try card!.waitFor(line: "signing")
        card!.pull()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1, message)
        XCTAssertTrue(message.contains("Token đã bị rút ra / the token was removed"), message)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work), ["to-trinh.pdf"], "no signed file, no partial one")
    }

    /// `token change-pin --pkcs11` (C_SetPIN through OpenSC: CHANGE REFERENCE DATA on the card),
    /// then the next signature through PKCS#11 with the new PIN; and back through the PIV backend's
    /// `token change-pin`, after which PKCS#11 signs with that PIN.
    func testThePINChangedWithTokenChangePINSignsNextThroughPKCS11() throws {
        try insert()
        let tool = try program("gateway-token")
        let message = try message()
        let digest = try FileDigest.compute(path: message, algorithm: .sha256)
        let newPIN = TestSecrets.value("pin.virtual-card-new")
        let current = try pinFile("current", VirtualCard.pin), new = try pinFile("new", newPIN)
        let changed = runProgram(tool, ["change-pin", "--pkcs11", "pkcs11:", "--module", Self.modulePath, "--pin-file", current, "--new-pin-file", new])
        XCTAssertEqual(changed.status, 0, changed.err)
        XCTAssertEqual(try cardTriesLeft(), 3)
        try assertVerified(try pkcs11Signer(pin: newPIN).signNow(digest: digest, algorithm: .rsaPKCS1SHA256), message: message, "new PIN")
        XCTAssertThrowsError(try pkcs11Signer(pin: VirtualCard.pin).signNow(digest: digest, algorithm: .rsaPKCS1SHA256)) {
            guard case .pinIncorrect? = $0 as? PKCS11Error else { return XCTFail("\($0)") }
        }

        let back = runProgram(tool, ["change-pin", "--reader", Self.readerName, "--pin-file", new, "--new-pin-file", current])
        XCTAssertEqual(back.status, 0, back.err)
        try assertVerified(try pkcs11Signer(pin: VirtualCard.pin).signNow(digest: digest, algorithm: .rsaPKCS1SHA256), message: message, "PIN changed back")
        XCTAssertEqual(try cardTriesLeft(), 3)
    }
}
