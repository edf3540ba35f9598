import CPKCS11
import Signing

/// One signing session on a PKCS#11 token, for the daemon's signing stage: the PIN flags read
/// and `C_Login` once when it opens, every signature on the same logged-in session, `C_Logout`
/// when it closes (so no verified PIN is left on the token after the session). A key with
/// `CKA_ALWAYS_AUTHENTICATE` gets the context-specific login before each `C_Sign`, the flags read
/// again first, as PIV's "PIN always" slot does. The PIN is lent by the caller for each login
/// (`PINLender`), its bytes going to the module as they are: PKCS#11 PINs need not be 6–8 digits.
/// Not thread-safe: the caller serialises (SessionTokens' queue).
package final class PKCS11SigningSession: @unchecked Sendable {
    /// Lends the PIN's bytes to `use` and answers what `use` answered; nil bytes: the PIN is gone.
    package typealias PINLender = (_ use: (UnsafeBufferPointer<UInt8>?) -> PKCS11Error?) -> PKCS11Error?

    package let signer: PKCS11Signer
    package let alwaysAuthenticate: Bool
    private var session: PKCS11Session?
    private let key: CK_OBJECT_HANDLE
    private let force: Bool

    /// Opens the session and logs in. `force`: the person confirmed using the final try.
    package init(signer: PKCS11Signer, force: Bool, pin: PINLender) throws(PKCS11Error) {
        self.signer = signer
        self.force = force
        try PKCS11Signer.checkFlags(module: signer.module, slot: signer.slot, force: force)
        let session = try signer.takeSession()
        try Self.login(pin, module: signer.module, slot: signer.slot) { bytes throws(PKCS11Error) in try session.login(pin: bytes) }
        var opened = false
        defer { if !opened { session.logout() } }
        guard let key = try session.find(class: PKCS11.CKO_PRIVATE_KEY, id: signer.keyID, limit: 1).first else {
            throw .notFound("private key with the certificate's CKA_ID")
        }
        self.key = key
        alwaysAuthenticate = try session.flag(PKCS11.CKA_ALWAYS_AUTHENTICATE, of: key) ?? false
        self.session = session
        opened = true
    }

    /// One signature. `pin`: for the context-specific login of an always-authenticate key.
    package func sign(digest: [UInt8], algorithm: SignatureAlgorithm, pin: PINLender) throws(PKCS11Error) -> [UInt8] {
        guard let session else { throw .sessionEnded }
        let operation = try PKCS11Signer.operation(digest: digest, algorithm: algorithm, keyType: signer.keyType)
        let (module, slot, force, always) = (signer.module, signer.slot, force, alwaysAuthenticate)
        let signature = try session.sign(operation.input, key: key, mechanism: operation.mechanism, pss: operation.pss) { () throws(PKCS11Error) in
            guard always else { return }
            try PKCS11Signer.checkFlags(module: module, slot: slot, force: force)
            try Self.login(pin, module: module, slot: slot) { bytes throws(PKCS11Error) in try session.contextLogin(pin: bytes) }
        }
        return try PKCS11Signer.finished(signature, algorithm: algorithm, keyType: signer.keyType)
    }

    /// A lender of `pin`'s bytes, for a caller that holds the PIN itself (the command line,
    /// which reads it once for all its files); each loan is a copy that is zeroed after.
    package static func lending(_ pin: EnteredPIN) -> PINLender {
        { use in pin.withCopy { bytes in use(bytes) } }
    }

    /// C_Logout and the session closed; nothing more is signed.
    package func close() {
        session?.logout()
        session = nil
    }

    deinit { close() }

    private static func login(_ pin: PINLender, module: PKCS11Module, slot: CK_SLOT_ID,
                              _ call: @escaping (UnsafeBufferPointer<UInt8>) throws(PKCS11Error) -> Void) throws(PKCS11Error) {
        let failure = pin { bytes -> PKCS11Error? in
            guard let bytes else { return .sessionEnded }
            guard !bytes.isEmpty else { return .pinLength(count: 0, allowed: nil) }
            do throws(PKCS11Error) { try call(bytes) } catch { return error }
            return nil
        }
        if let failure { throw PKCS11Signer.loginFailure(failure, module: module, slot: slot) }
    }
}
