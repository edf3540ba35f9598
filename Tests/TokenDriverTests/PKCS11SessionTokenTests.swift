import Crypto
import Foundation
import GatewayCore
import SessionTokens
import Signing
import TestSupport
@testable import TokenDriver
import X509
import XCTest

/// The signing stage's tokens over PKCS#11 (issue 18), on SoftHSMTests' token: a key named by its
/// `pkcs11:` URI opens without a PIN, the session logs in once for all its signatures and logs out
/// at its end, a wrong PIN stops it with what the token says, and a broken module beside SoftHSM2
/// does not keep the token from being served.
extension SoftHSMTests {
    func sessionPIN(_ name: String) -> SessionPIN {
        var bytes = Array(TestSecrets.value(name).utf8)
        return SessionPIN(consuming: &bytes)
    }

    /// Private keys a fresh session sees: only while the token is logged in (PKCS#11 logins are
    /// per token and application), so this tells whether the signing session left a login behind.
    func visiblePrivateKeys(_ module: PKCS11Module) throws -> Int {
        let slot = try XCTUnwrap(module.slots().first { $0.token?.label == Self.label })
        return try module.openSession(slot: slot.id).find(class: 3).count  // CKO_PRIVATE_KEY
    }

    func testOneLoginPerSessionForEverySignatureAndLogoutAtTheEnd() throws {
        let module = try PKCS11Module.load(path: Self.module)
        let signer = try PKCS11Signer(module: module, uri: PKCS11URI("pkcs11:token=Nguyen%20Van%20An;id=%01")) { throw PKCS11Error.sessionEnded }
        let pin = sessionPIN("pin.softhsm-user")
        var lent = 0
        let lend: PKCS11SigningSession.PINLender = { use in lent += 1; return pin.withBytes { use($0) } }
        XCTAssertEqual(try visiblePrivateKeys(module), 0, "not logged in before the session")
        let session = try PKCS11SigningSession(signer: signer, force: false, pin: lend)
        XCTAssertFalse(session.alwaysAuthenticate, "SoftHSM2's imported keys are not CKA_ALWAYS_AUTHENTICATE")
        let publicKey = try XCTUnwrap(P256.Signing.PublicKey(signer.certificateChain[0].publicKey))
        for text in ["văn bản một", "văn bản hai", "văn bản ba"] {
            let message = Array(text.utf8)
            let signature = try session.sign(digest: Array(SHA256.hash(data: message)), algorithm: .ecdsaSHA256, pin: lend)
            XCTAssertTrue(publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: signature), for: message))
        }
        XCTAssertEqual(lent, 1, "one C_Login for three signatures")
        XCTAssertEqual(try visiblePrivateKeys(module), 3, "logged in during the session: the three keys show")
        session.close()
        XCTAssertEqual(try visiblePrivateKeys(module), 0, "C_Logout at the session's end")
        XCTAssertThrowsError(try session.sign(digest: Array(repeating: 0, count: 32), algorithm: .ecdsaSHA256, pin: lend)) {
            XCTAssertEqual($0 as? PKCS11Error, .sessionEnded)
        }
    }

    /// Through `BoxSigningTokens` as the daemon builds it, with a missing module and a library that
    /// is not PKCS#11 configured beside SoftHSM2: the certificate without a PIN, ECDSA signatures
    /// that verify, logged out when the session closes; a wrong PIN stops the session.
    func testTheStagesTokensServeTheSoftHSMTokenBesideBrokenModules() async throws {
        let tokens = BoxSigningTokens(modules: ["/nonexistent/vendor-pkcs11.so", "/lib/x86_64-linux-gnu/libc.so.6", Self.module], table: TokenModuleTable())
        let key = "pkcs11:token=Nguyen%20Van%20An;id=%01"
        let opened = try await tokens.open(reader: nil, key: key, pin: sessionPIN("pin.softhsm-user"), confirmLastTry: false)
        let leaf = try Certificate(derEncoded: Array(Data(contentsOf: URL(fileURLWithPath: "\(directory!)/cert-01.der"))))
        XCTAssertEqual(opened.signer.certificateChain.first, leaf)
        XCTAssertTrue(opened.location.hasPrefix("pkcs11:token=Nguyen%20Van%20An;serial=") && opened.location.hasSuffix("id=%01 (\(Self.module))"), opened.location)
        let module = try PKCS11Module.load(path: Self.module)
        XCTAssertEqual(try visiblePrivateKeys(module), 0, "opening sends no PIN")
        let publicKey = try XCTUnwrap(P256.Signing.PublicKey(leaf.publicKey))
        for text in ["một", "hai"] {
            let message = Array(text.utf8)
            let signature = try await opened.signer.sign(digest: Array(SHA256.hash(data: message)), algorithm: .ecdsaSHA256)
            XCTAssertTrue(publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: signature), for: message))
        }
        opened.close()
        // The session's queue is serial: a signature asked after close() runs after it, refused.
        do { _ = try await opened.signer.sign(digest: Array(repeating: 1, count: 32), algorithm: .ecdsaSHA256); XCTFail("signed after close") } catch {}
        XCTAssertEqual(try visiblePrivateKeys(module), 0, "logged out after close")

        let wrong = try await tokens.open(reader: nil, key: key, pin: sessionPIN("pin.softhsm-wrong"), confirmLastTry: false)
        do {
            _ = try await wrong.signer.sign(digest: Array(repeating: 1, count: 32), algorithm: .ecdsaSHA256)
            XCTFail("signed with a wrong PIN")
        } catch let failure as SessionTokenFailure {
            XCTAssertEqual(failure, .wrongPIN(triesLeft: nil), "SoftHSM2 gives no count")
            XCTAssertEqual(failure.code, "wrong_pin")
        }
        do {
            _ = try await wrong.signer.sign(digest: Array(repeating: 1, count: 32), algorithm: .ecdsaSHA256)
            XCTFail("a second try after a wrong PIN")
        } catch let failure as SessionTokenFailure {
            XCTAssertTrue(failure.description.contains("the signing session has ended"), failure.description)
        }
        wrong.close()

        do {
            _ = try await tokens.open(reader: nil, key: "pkcs11:token=Nobody", pin: sessionPIN("pin.softhsm-user"), confirmLastTry: false)
            XCTFail("opened a token that is not there")
        } catch {
            XCTAssertEqual(error.code, "no_token")
            XCTAssertTrue(error.description.contains("no such file") && error.description.contains("not a PKCS#11 module"), error.description)
        }
    }

    /// The console's PIN change through `BoxSigningTokens` (C_SetPIN), routed by the key's URI: a
    /// wrong current PIN changes nothing; the changed PIN signs the next session, the old one not.
    func testTheStagesTokensChangeThePINAndTheNewOneSigns() async throws {
        let tokens = BoxSigningTokens(modules: [Self.module], table: TokenModuleTable())
        let key = "pkcs11:token=Nguyen%20Van%20An;id=%01"
        do {
            try await tokens.changePIN(reader: nil, key: key, current: sessionPIN("pin.softhsm-wrong"), new: sessionPIN("pin.softhsm-new"), confirmLastTry: false)
            XCTFail("changed with a wrong current PIN")
        } catch {
            XCTAssertEqual(error.code, "wrong_pin", error.description)
        }
        try await tokens.changePIN(reader: nil, key: key, current: sessionPIN("pin.softhsm-user"), new: sessionPIN("pin.softhsm-new"), confirmLastTry: false)
        for (pin, signs) in [("pin.softhsm-new", true), ("pin.softhsm-user", false)] {
            let opened = try await tokens.open(reader: nil, key: key, pin: sessionPIN(pin), confirmLastTry: false)
            defer { opened.close() }
            do {
                _ = try await opened.signer.sign(digest: Array(repeating: 7, count: 32), algorithm: .ecdsaSHA256)
                XCTAssertTrue(signs, "the old PIN still signs")
            } catch {
                XCTAssertFalse(signs, "the new PIN does not sign: \(error)")
            }
        }
    }

    /// A `module-path=` in a request (the console's form, the local API) names only a module the
    /// configuration names: a working copy of SoftHSM2 elsewhere — which would serve the token
    /// if loaded — is refused, for a session and for a PIN change, in the key or in the reader;
    /// the configured path itself is taken.
    func testARequestMayNameOnlyAConfiguredModule() async throws {
        let copy = directory! + "/copied-softhsm2.so"
        // The library itself: Debian's module path is a relative symbolic link, which a copy would leave dangling.
        try FileManager.default.copyItem(atPath: URL(fileURLWithPath: Self.module).resolvingSymlinksInPath().path, toPath: copy)
        let tokens = BoxSigningTokens(modules: [Self.module], table: TokenModuleTable())
        let key = "pkcs11:token=Nguyen%20Van%20An;id=%01"
        let elsewhere = key + "?module-path=" + copy
        for (reader, key) in [(nil, elsewhere), (elsewhere, "9c")] as [(String?, String?)] {
            do {
                let opened = try await tokens.open(reader: reader, key: key, pin: sessionPIN("pin.softhsm-user"), confirmLastTry: false)
                opened.close()
                XCTFail("opened through a module the configuration does not name")
            } catch {
                XCTAssertEqual(error.code, "token_error")
                XCTAssertTrue(error.description.contains("module-path=\(copy)") && error.description.contains("not loaded"), error.description)
            }
        }
        do {
            try await tokens.changePIN(reader: nil, key: elsewhere, current: sessionPIN("pin.softhsm-user"), new: sessionPIN("pin.softhsm-new"), confirmLastTry: false)
            XCTFail("changed the PIN through a module the configuration does not name")
        } catch {
            XCTAssertTrue(error.description.contains("not loaded"), error.description)
        }
        let opened = try await tokens.open(reader: nil, key: key + "?module-path=" + Self.module, pin: sessionPIN("pin.softhsm-user"), confirmLastTry: false)
        defer { opened.close() }
        XCTAssertTrue(opened.location.hasSuffix("(\(Self.module))"), opened.location)
        _ = try await opened.signer.sign(digest: Array(repeating: 7, count: 32), algorithm: .ecdsaSHA256)
    }

    /// The daemon's tokens keep `[tokens] modules` loaded between sessions; a one-shot command's
    /// load per use. Seen through SoftHSM2, which reads SOFTHSM2_CONF at C_Initialize only: once
    /// the variable names an empty token directory, the held module still signs with the token
    /// it was initialised with, while a module loaded afresh finds no token.
    func testTheDaemonsTokensKeepTheirModulesLoadedBetweenSessions() async throws {
        let key = "pkcs11:token=Nguyen%20Van%20An;id=%01"
        let perUse = BoxSigningTokens(modules: [Self.module], table: TokenModuleTable())
        let configured = String(cString: getenv("SOFTHSM2_CONF"))
        defer { setenv("SOFTHSM2_CONF", configured, 1) }
        try FileManager.default.createDirectory(atPath: directory + "/empty-tokens", withIntermediateDirectories: true)
        try "directories.tokendir = \(directory!)/empty-tokens\n".write(toFile: directory + "/empty.conf", atomically: true, encoding: .utf8)
        do {
            let daemons = BoxSigningTokens(modules: [Self.module], table: TokenModuleTable(), keepingModulesLoaded: true)
            setenv("SOFTHSM2_CONF", directory + "/empty.conf", 1)
            for _ in 0..<2 {
                let opened = try await daemons.open(reader: nil, key: key, pin: sessionPIN("pin.softhsm-user"), confirmLastTry: false)
                _ = try await opened.signer.sign(digest: Array(repeating: 7, count: 32), algorithm: .ecdsaSHA256)
                opened.close()
            }
        }
        do {
            let opened = try await perUse.open(reader: nil, key: key, pin: sessionPIN("pin.softhsm-user"), confirmLastTry: false)
            opened.close()
            XCTFail("a module loaded afresh saw the token: the held one was not released, or SoftHSM2 reads its configuration later")
        } catch {
            XCTAssertEqual(error.code, "no_token", error.description)
        }
    }

    /// PKCS#11 logins belong to the token: while one session is logged in, another's C_Login is
    /// answered CKR_USER_ALREADY_LOGGED_IN without its PIN being checked. That is a refusal, never a
    /// login: a wrong PIN must not sign because someone else's session is open (it did, and
    /// `testTheStagesTokensChangeThePINAndTheNewOneSigns` caught it once in CI by chance).
    func testASecondLoginWhileASessionIsOpenIsRefusedWhateverItsPIN() async throws {
        let tokens = BoxSigningTokens(modules: [Self.module], table: TokenModuleTable())
        let key = "pkcs11:token=Nguyen%20Van%20An;id=%01"
        let digest = Array(repeating: UInt8(7), count: 32)
        let first = try await tokens.open(reader: nil, key: key, pin: sessionPIN("pin.softhsm-user"), confirmLastTry: false)
        _ = try await first.signer.sign(digest: digest, algorithm: .ecdsaSHA256)
        for pin in ["pin.softhsm-wrong", "pin.softhsm-user"] {
            let second = try await tokens.open(reader: nil, key: key, pin: sessionPIN(pin), confirmLastTry: false)
            do {
                _ = try await second.signer.sign(digest: digest, algorithm: .ecdsaSHA256)
                XCTFail("\(pin): a second session signed while the first was logged in")
            } catch {
                XCTAssertTrue(String(describing: error).contains("in use by another signing session"), "\(pin): \(error)")
            }
            second.close()
        }
        _ = try await first.signer.sign(digest: digest, algorithm: .ecdsaSHA256)  // the first goes on
        first.close()
        // Closed means logged out at once: the next session logs in with its own PIN and signs.
        let next = try await tokens.open(reader: nil, key: key, pin: sessionPIN("pin.softhsm-user"), confirmLastTry: false)
        _ = try await next.signer.sign(digest: digest, algorithm: .ecdsaSHA256)
        next.close()
    }

    /// A key with CKA_ALWAYS_AUTHENTICATE (written by pkcs11-tool --always-auth, with a certificate
    /// of its own beside it): each signature gets the context-specific login after the session's
    /// one C_Login, and the signatures verify.
    func testAnAlwaysAuthenticateKeyGetsTheContextSpecificLoginForEachSignature() throws {
        let pin = TestSecrets.value("pin.softhsm-user")
        let d = directory!
        try tool("/usr/bin/openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", d + "/always.pem"])
        try tool("/usr/bin/openssl", ["pkcs8", "-topk8", "-nocrypt", "-in", d + "/always.pem", "-outform", "DER", "-out", d + "/always.p8"])
        try tool("/usr/bin/openssl", ["req", "-new", "-x509", "-key", d + "/always.pem", "-subj", "/CN=Always", "-days", "2", "-outform", "DER", "-out", d + "/always.der"])
        for (file, type) in [("always.p8", "privkey"), ("always.der", "cert")] {
            try tool("/usr/bin/pkcs11-tool", ["--module", Self.module, "--token-label", Self.label, "--login", "--pin", pin, "--write-object", d + "/" + file,
                                              "--type", type, "--id", "04"] + (type == "privkey" ? ["--always-auth"] : []))
        }
        let module = try PKCS11Module.load(path: Self.module)
        let signer = try PKCS11Signer(module: module, uri: PKCS11URI("pkcs11:token=Nguyen%20Van%20An;id=%04")) { throw PKCS11Error.sessionEnded }
        let session = sessionPIN("pin.softhsm-user")
        var lent = 0
        let lend: PKCS11SigningSession.PINLender = { use in lent += 1; return session.withBytes { use($0) } }
        let signing = try PKCS11SigningSession(signer: signer, force: false, pin: lend)
        defer { signing.close() }
        XCTAssertTrue(signing.alwaysAuthenticate)
        let publicKey = try XCTUnwrap(P256.Signing.PublicKey(signer.certificateChain[0].publicKey))
        for text in ["một", "hai"] {
            let message = Array(text.utf8)
            let signature = try signing.sign(digest: Array(SHA256.hash(data: message)), algorithm: .ecdsaSHA256, pin: lend)
            XCTAssertTrue(publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: signature), for: message))
        }
        XCTAssertEqual(lent, 3, "the session's C_Login, then one context-specific login per signature")
    }

    func testFailuresHaveTheStagesNames() {
        let cases: [(PKCS11Error, SessionTokenFailure)] = [
            (.pinIncorrect(after: .finalTry), .wrongPIN(triesLeft: 1)), (.pinIncorrect(after: .low), .wrongPIN(triesLeft: nil)),
            (.pinLocked, .blocked), (.lastTryRefused, .lastTryNeedsConfirmation),
            (.deviceRemoved, .removed(PKCS11Error.deviceRemoved.description)), (.tokenNotPresent, .removed(PKCS11Error.tokenNotPresent.description)),
        ]
        for (error, expected) in cases { XCTAssertEqual(PKCS11SigningTokens.failure(error), expected, "\(error)") }
        XCTAssertEqual(PKCS11SigningTokens.failure(PKCS11Error.tokenNotPresent, opening: true).code, "no_token")
    }
}
