import CPKCS11
import DocumentSigning
import Foundation
import Signing
import TestSupport
@testable import TokenDriver
import XCTest

/// RFC 7512 `pkcs11:` URIs: what names a key, and what is refused.
final class PKCS11URITests: XCTestCase {
    func testTokenAndPercentEncodedID() throws {
        let uri = try PKCS11URI("pkcs11:token=Nguy%E1%BB%85n%20V%C4%83n%20An;id=%01%A0;object=leader;type=private")
        XCTAssertEqual(uri.token, "Nguyễn Văn An")
        XCTAssertEqual(uri.id, [0x01, 0xA0])
        XCTAssertEqual(uri.object, "leader")
        XCTAssertEqual(uri.type, "private")
        XCTAssertEqual(try PKCS11URI(uri.description), uri, "printed and read again: \(uri)")
    }

    func testSerialManufacturerModelSlotAndModuleQuery() throws {
        let uri = try PKCS11URI("PKCS11:serial=a1b2;manufacturer=EnterSafe;model=PKCS%2315;slot-id=3?module-path=/usr/lib/softhsm/libsofthsm2.so&x-vendor=1")
        XCTAssertEqual(uri.serial, "a1b2")
        XCTAssertEqual(uri.manufacturer, "EnterSafe")
        XCTAssertEqual(uri.model, "PKCS#15")
        XCTAssertEqual(uri.slotID, 3)
        XCTAssertEqual(uri.modulePath, "/usr/lib/softhsm/libsofthsm2.so")
        XCTAssertNil(uri.token)
        XCTAssertEqual(try PKCS11URI("pkcs11:"), PKCS11URI(), "an empty URI names any token")
    }

    func testRefusals() {
        func refused(_ text: String, _ expected: PKCS11URI.ParseError, line: UInt = #line) {
            XCTAssertThrowsError(try PKCS11URI(text), line: line) { XCTAssertEqual($0 as? PKCS11URI.ParseError, expected, line: line) }
        }
        refused("pkcs11:token=A?pin-value=123456", .pinInURI)
        refused("pkcs11:token=A?pin-source=file:/tmp/pin", .pinInURI)
        refused("pkcs11:pin-value=123456;token=A", .pinInURI)
        refused("pkcs11:token=A;colour=blue", .unknownAttribute("colour"))
        refused("pkcs11:token=A;token=B", .duplicateAttribute("token"))
        refused("pkcs11:id=%0", .badPercentEncoding("%0"))
        refused("pkcs11:id=%G1", .badPercentEncoding("%G1"))
        refused("pkcs11:token=%FF", .badValue(attribute: "token", value: "(not UTF-8)"))
        refused("pkcs11:type=key", .badValue(attribute: "type", value: "key"))
        refused("pkcs11:slot-id=x", .badValue(attribute: "slot-id", value: "x"))
        refused("token:9c", .notPKCS11URI)
    }

    func testMatchingATokenByItsAttributes() throws {
        let token = PKCS11Module.TokenInfo(label: "Nguyen Van An", manufacturer: "SoftHSM project", model: "SoftHSM v2", serial: "1234", flags: 0)
        XCTAssertTrue(try PKCS11URI("pkcs11:token=Nguyen%20Van%20An;id=%01").matches(token))
        XCTAssertTrue(try PKCS11URI("pkcs11:serial=1234").matches(token))
        XCTAssertFalse(try PKCS11URI("pkcs11:token=Nguyen%20Van%20An;serial=9999").matches(token))
    }
}

/// PIV's PIN safety from PKCS#11's flags, before any C_Login (SoftHSM2 sets none of FINAL_TRY or
/// LOCKED, so these paths are shown here on the flags; on a real card through OpenSC: issue 18, 2).
final class PKCS11PINPolicyTests: XCTestCase {
    func testFlagsDecideBeforeAnyTry() {
        func token(_ flags: CK_FLAGS) -> PKCS11Module.TokenInfo { .init(label: "A", manufacturer: "", model: "", serial: "", flags: flags) }
        XCTAssertEqual(PKCS11Signer.decide(token(PKCS11.CKF_LOGIN_REQUIRED), force: false), .proceed)
        XCTAssertEqual(PKCS11Signer.decide(token(PKCS11.CKF_USER_PIN_COUNT_LOW), force: false), .proceed)
        XCTAssertEqual(PKCS11Signer.decide(token(PKCS11.CKF_USER_PIN_COUNT_LOW | PKCS11.CKF_USER_PIN_FINAL_TRY), force: false), .refuseLastTry)
        XCTAssertEqual(PKCS11Signer.decide(token(PKCS11.CKF_USER_PIN_FINAL_TRY), force: true), .proceed)
        XCTAssertEqual(PKCS11Signer.decide(token(PKCS11.CKF_USER_PIN_LOCKED), force: true), .blocked)
        XCTAssertEqual(PKCS11Error(rv: 0xA0, function: "C_Login"), .pinIncorrect(after: .unknown))
        XCTAssertEqual(PKCS11Error(rv: 0xA4, function: "C_Login"), .pinLocked)
        XCTAssertEqual(PKCS11Error(rv: 0x32, function: "C_Sign"), .deviceRemoved)
        XCTAssertEqual(PKCS11Error(rv: 0x1234, function: "C_Sign").description.hasSuffix("CKR 0x1234"), true)
    }
}

/// The PKCS#11 backend against a real module: SoftHSM2 with a token made in a temporary directory,
/// a P-256 and an RSA-2048 key and certificates from the test PKI put on it by SoftHSM2's and
/// OpenSC's own tools, and the signatures judged by openssl and pdfsig.
final class SoftHSMTests: XCTestCase {
    static let module = "/usr/lib/softhsm/libsofthsm2.so"
    static let label = "Nguyen Van An"
    var directory: String!
    var pki: TestPKI!
    var ecdsa: TestPKI.Signer!
    var rsa: TestPKI.Signer!
    var p384: TestPKI.Signer!

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.module) && FileManager.default.isExecutableFile(atPath: "/usr/bin/softhsm2-util")
                          && FileManager.default.isExecutableFile(atPath: "/usr/bin/pkcs11-tool"), "needs softhsm2 and opensc (scripts/install-deps)")
        directory = NSTemporaryDirectory() + "softhsm-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/tokens", withIntermediateDirectories: true)
        // SoftHSM2 finds its tokens through SOFTHSM2_CONF, read at C_Initialize: this process's
        // module and the tools below all see the temporary token directory, never the system's.
        try "directories.tokendir = \(directory!)/tokens\nobjectstore.backend = file\nlog.level = ERROR\n"
            .write(toFile: directory + "/softhsm2.conf", atomically: true, encoding: .utf8)
        setenv("SOFTHSM2_CONF", directory + "/softhsm2.conf", 1)
        let pin = TestSecrets.value("pin.softhsm-user")
        try tool("/usr/bin/softhsm2-util", ["--init-token", "--free", "--label", Self.label, "--pin", pin, "--so-pin", TestSecrets.value("pin.softhsm-so")])
        pki = try TestPKI(directory: directory)
        ecdsa = try pki.issue("leader", key: .p256)
        rsa = try pki.issue("organization", subject: "/CN=UBND xã Hòa Tiến", key: .rsa2048)
        p384 = try pki.issue("secretary", subject: "/CN=Trần Thị Bình", key: .p384)
        for (signer, id) in [(ecdsa!, "01"), (rsa!, "02"), (p384!, "03")] {
            try tool("/usr/bin/softhsm2-util", ["--import", signer.key, "--token", Self.label, "--label", "key-\(id)", "--id", id, "--pin", pin])
            try tool("/usr/bin/openssl", ["x509", "-in", signer.chain, "-outform", "DER", "-out", "\(directory!)/cert-\(id).der"])
            try tool("/usr/bin/pkcs11-tool", ["--module", Self.module, "--token-label", Self.label, "--login", "--pin", pin,
                                              "--write-object", "\(directory!)/cert-\(id).der", "--type", "cert", "--id", id, "--label", "cert-\(id)"])
        }
    }

    override func tearDown() {
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    func tool(_ executable: String, _ arguments: [String]) throws {
        let result = runProgram(executable, arguments)
        guard result.status == 0 else { throw TestPKI.Failure(description: "\(executable) \(arguments.first ?? ""): \(result.out) \(result.err)") }
    }

    static func pin(_ name: String) -> @Sendable () throws -> EnteredPIN { { EnteredPIN.text(try TestSecrets.value(name)) } }

    func testSlotsTokensAndCertificates() throws {
        let module = try PKCS11Module.load(path: Self.module)
        XCTAssertTrue(try PKCS11Module.load(path: Self.module) === module, "one instance per module: one C_Initialize, one C_Finalize")
        let tokens = try module.slots().compactMap(\.token).filter { !$0.label.isEmpty }
        XCTAssertEqual(tokens.map(\.label), [Self.label])
        let token = try XCTUnwrap(tokens.first)
        XCTAssertEqual(token.manufacturer, "SoftHSM project")
        XCTAssertEqual(token.model, "SoftHSM v2")
        XCTAssertFalse(token.serial.isEmpty)
        XCTAssertTrue(token.loginRequired)
        XCTAssertFalse(token.pinCountLow || token.pinFinalTry || token.pinLocked)

        let slot = try XCTUnwrap(module.slots().first { $0.token?.label == Self.label })
        let certificates = try module.openSession(slot: slot.id).certificates()
        XCTAssertEqual(Set(certificates.map(\.id)), [[0x01], [0x02], [0x03]])
        let der = try Data(contentsOf: URL(fileURLWithPath: "\(directory!)/cert-01.der"))
        XCTAssertEqual(certificates.first { $0.id == [0x01] }?.der, Array(der), "the certificate openssl wrote, as the token gives it back")
    }

    func testSignsP256P384RSAAndRSAPSSAndOpenSSLVerifies() async throws {
        let module = try PKCS11Module.load(path: Self.module)
        let cases: [(TestPKI.Signer, String, SignatureAlgorithm)] = [
            (ecdsa, "%01", .ecdsaSHA256), (rsa, "%02", .rsaPKCS1SHA256), (rsa, "%02", .rsaPSSSHA256), (p384, "%03", .ecdsaSHA384),
        ]
        for (signer, id, algorithm) in cases {
            let uri = try PKCS11URI("pkcs11:token=Nguyen%20Van%20An;id=\(id)")
            let token = try PKCS11Signer(module: module, uri: uri, pin: Self.pin("pin.softhsm-user"))
            let message = Array("Quyết định số 12/QĐ-UBND \(id)".utf8)
            let digest = algorithm.digest.hash(message)
            let signature = try await token.sign(digest: digest, algorithm: algorithm)
            try Data(digest).write(to: URL(fileURLWithPath: "\(directory!)/digest"))
            try Data(signature).write(to: URL(fileURLWithPath: "\(directory!)/signature"))
            try tool("/usr/bin/openssl", ["x509", "-in", signer.chain, "-pubkey", "-noout", "-out", "\(directory!)/public.pem"])
            var arguments = ["pkeyutl", "-verify", "-pubin", "-inkey", "\(directory!)/public.pem", "-in", "\(directory!)/digest", "-sigfile", "\(directory!)/signature"]
            if algorithm.keyKind == .rsa { arguments += ["-pkeyopt", "digest:sha256"] }  // the DigestInfo around the digest
            if algorithm.isPSS { arguments += ["-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:32"] }
            let verified = runProgram("/usr/bin/openssl", arguments)
            XCTAssertTrue(verified.out.contains("Signature Verified Successfully"), "\(algorithm): \(verified.out) \(verified.err)")
            XCTAssertEqual(token.keyType, algorithm.keyKind == .rsa ? .rsa(bits: 2048) : algorithm == .ecdsaSHA384 ? .ecdsaP384 : .ecdsaP256)
        }
    }

    func testWrongPINIsReportedAndTheTokenSaysSo() async throws {
        let module = try PKCS11Module.load(path: Self.module)
        let uri = try PKCS11URI("pkcs11:token=Nguyen%20Van%20An;id=%01")
        let before = try FileManager.default.contentsOfDirectory(atPath: directory)
        let wrong = try PKCS11Signer(module: module, uri: uri, pin: Self.pin("pin.softhsm-wrong"))
        let digest = DigestAlgorithm.sha256.hash(Array("x".utf8))
        do {
            _ = try await wrong.sign(digest: digest, algorithm: .ecdsaSHA256)
            XCTFail("signed with a wrong PIN")
        } catch let error as PKCS11Error {
            // SoftHSM2 counts no tries and never locks: it only raises COUNT_LOW after a wrong PIN.
            XCTAssertEqual(error, .pinIncorrect(after: .low))
            XCTAssertTrue(error.description.hasPrefix("Mã PIN sai"), error.description)
        }
        let slot = try XCTUnwrap(module.slots().first { $0.token?.label == Self.label })
        XCTAssertTrue(try module.tokenInfo(slot: slot.id).pinCountLow)
        // The right PIN still signs, and the flag goes away with it.
        let right = try PKCS11Signer(module: module, uri: uri, pin: Self.pin("pin.softhsm-user"))
        _ = try await right.sign(digest: digest, algorithm: .ecdsaSHA256)
        XCTAssertFalse(try module.tokenInfo(slot: slot.id).pinCountLow)
    }

    /// `gateway-token list --module …` (the same command as `gatewayd token list`): the
    /// SoftHSM2 token with its keys' URIs, and a missing module or a library that is not PKCS#11
    /// each named with its reason while the listing goes on.
    func testTokenListShowsTheModulesTokensAndWhyAModuleCannotServe() throws {
        let program = repositoryRoot.appendingPathComponent(".build/debug/gateway-token").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: program), "needs \(program) (swift build)")
        let missing = "\(directory!)/no-such-module.so", notPKCS11 = "/usr/lib/x86_64-linux-gnu/libz.so.1"
        let text = runProgram(program, ["list", "--module", missing, "--module", notPKCS11, "--module", Self.module])
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssertTrue(text.out.contains("PKCS#11 \(missing): Không nạp được mô-đun PKCS#11"), text.out)
        XCTAssertTrue(text.out.contains("PKCS#11 \(notPKCS11): Không nạp được mô-đun PKCS#11 \(notPKCS11) / cannot load the PKCS#11 module \(notPKCS11): không có C_GetFunctionList"), text.out)
        XCTAssertTrue(text.out.contains("  Nguyen Van An — SoftHSM project SoftHSM v2, serial "), text.out)
        XCTAssertTrue(text.out.contains("CN=Nguyễn Văn An"), text.out)
        XCTAssertTrue(text.out.contains("Token chưa được khởi tạo / the token is not initialised"), "SoftHSM2's free slot: \(text.out)")

        struct Listing: Decodable {
            struct Module: Decodable { let module: String; let problem: String?; let tokens: [Token] }
            struct Token: Decodable { let label: String; let login_required: Bool; let pin_count_low: Bool; let certificates: [Certificate] }
            struct Certificate: Decodable { let slot: String; let key_type: String }
            let pkcs11: [Module]
        }
        let json = runProgram(program, ["list", "--json", "--module", Self.module])
        XCTAssertEqual(json.status, 0, json.err)
        let listing = try JSONDecoder().decode(Listing.self, from: Data(json.out.utf8))
        let token = try XCTUnwrap(listing.pkcs11.first?.tokens.first { $0.label == Self.label }, json.out)
        XCTAssertTrue(token.login_required)
        XCTAssertEqual(token.certificates.map(\.key_type).sorted(), ["ECC P-256", "ECC P-384", "RSA-2048"])
        // Each key's URI, as `--signer pkcs11:` will take it, finds the key and signs.
        let uri = try XCTUnwrap(token.certificates.first { $0.key_type == "ECC P-256" }?.slot)
        XCTAssertTrue(uri.hasPrefix("pkcs11:token=Nguyen%20Van%20An;serial="), uri)
        let signer = try PKCS11Signer(module: try PKCS11Module.load(path: Self.module), uri: try PKCS11URI(uri), pin: Self.pin("pin.softhsm-user"))
        XCTAssertEqual(signer.keyID, [0x01])
    }

    func testPAdESSignatureThroughPKCS11AcceptedByPdfsig() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/pdfsig"), "needs poppler-utils")
        let module = try PKCS11Module.load(path: Self.module)
        let signer = try PKCS11Signer(module: module, uri: PKCS11URI("pkcs11:token=Nguyen%20Van%20An;id=%01"), pin: Self.pin("pin.softhsm-user"))
        let input = "\(directory!)/input.pdf", output = "\(directory!)/signed.pdf"
        try Data(SamplePDF.bytes()).write(to: URL(fileURLWithPath: input))
        // A wrong PIN fails the signature and leaves no file behind, not even a partial one.
        let before = try FileManager.default.contentsOfDirectory(atPath: directory)
        let wrong = try PKCS11Signer(module: module, uri: PKCS11URI("pkcs11:token=Nguyen%20Van%20An;id=%01"), pin: Self.pin("pin.softhsm-wrong"))
        do {
            _ = try await PAdESSigner.sign(input: input, output: output, signer: wrong, algorithm: .ecdsaSHA256)
            XCTFail("signed with a wrong PIN")
        } catch let error as PKCS11Error {
            XCTAssertEqual(error, .pinIncorrect(after: .low))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(), before.sorted())
        _ = try await PAdESSigner.sign(input: input, output: output, signer: signer, algorithm: .ecdsaSHA256)
        let pdfsig = runProgram("/usr/bin/pdfsig", [output])
        XCTAssertTrue(pdfsig.out.contains("Signature Validation: Signature is Valid."), "\(pdfsig.out) \(pdfsig.err)")
        XCTAssertTrue(pdfsig.out.contains("Nguyễn Văn An"), pdfsig.out)
    }

    /// `gatewayd sign --signer pkcs11:…` (issue 18): the same command as for a PIV token, the key
    /// named by its URI, the module by the URI's `module-path`, the PIN from a file; pdfsig judges.
    /// A PIN in the URI is refused before anything is opened.
    func testGatewaydSignsWithAKeyNamedByItsPKCS11URI() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/pdfsig"), "needs poppler-utils")
        let gatewayd = repositoryRoot.appendingPathComponent(".build/debug/gatewayd").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: gatewayd), "needs .build/debug/gatewayd")
        let input = "\(directory!)/to-trinh.pdf", output = "\(directory!)/to-trinh-signed.pdf", pinFile = "\(directory!)/pin"
        try Data(SamplePDF.bytes("To trinh")).write(to: URL(fileURLWithPath: input))
        try (TestSecrets.value("pin.softhsm-user") + "\n").write(toFile: pinFile, atomically: true, encoding: .utf8)
        let uri = "pkcs11:token=Nguyen%20Van%20An;id=%01?module-path=\(Self.module)"
        let signed = runProgram(gatewayd, ["sign", input, "--signer", uri, "--pin-file", pinFile, "--out", output])
        XCTAssertEqual(signed.status, 0, signed.out + signed.err)
        let pdfsig = runProgram("/usr/bin/pdfsig", [output])
        XCTAssertTrue(pdfsig.out.contains("Signature Validation: Signature is Valid."), "\(pdfsig.out) \(pdfsig.err)")
        XCTAssertTrue(pdfsig.out.contains("Nguyễn Văn An"), pdfsig.out)

        let withPIN = runProgram(gatewayd, ["sign", input, "--signer", "pkcs11:token=Nguyen%20Van%20An;id=%01?pin-value=\(TestSecrets.value("pin.malformed-1"))&module-path=\(Self.module)",
                                            "--out", "\(directory!)/never.pdf"])
        XCTAssertNotEqual(withPIN.status, 0)
        XCTAssertTrue(withPIN.err.contains("never taken from a URI"), withPIN.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory!)/never.pdf"))
        let noModule = runProgram(gatewayd, ["sign", input, "--signer", "pkcs11:token=Nguyen%20Van%20An;id=%01", "--out", "\(directory!)/never.pdf"])
        XCTAssertNotEqual(noModule.status, 0)
        XCTAssertTrue(noModule.err.contains("--module"), noModule.err)
    }
}
