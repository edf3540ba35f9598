import CPKCS11
import Dispatch
import Signing
import Synchronization
import X509

/// A `Signer` backed by a key on a PKCS#11 token, named by a `pkcs11:` URI: the certificate found
/// by the URI's `id` (or `object`) and the private key with the same CKA_ID. Each signature reads
/// the token's PIN flags first (a locked PIN or a final try unforced sends nothing, as PIV's
/// PINPolicy does), logs in once, signs, and logs out, so no verified PIN is left on the token
/// for another program. ECDSA answers DER (the token gives raw r‖s); RSA PKCS#1 v1.5 is signed
/// as CKM_RSA_PKCS over the DigestInfo, which every module that signs RSA offers; RSA-PSS as
/// CKM_RSA_PKCS_PSS over the digest.
package final class PKCS11Signer: Signer, @unchecked Sendable {
    package let module: PKCS11Module
    package let slot: CK_SLOT_ID
    package let keyID: [UInt8]
    package let certificateChain: [Certificate]
    package let keyType: SignerKeyType
    let pinSource: @Sendable () throws -> EnteredPIN
    /// Module calls block: they run here, one at a time, never on the caller's executor.
    private let queue = DispatchQueue(label: "gatewayd.pkcs11-signer")
    /// The session the certificate was found in, kept for the first signature's login (one
    /// session where a signature from the command line had opened two); later ones open their own.
    private let lookupSession: Mutex<PKCS11Session?>

    /// Finds the token, certificate and key `uri` names. `intermediates`: the issuing CA's
    /// certificates, which the token may not carry. `pin` is asked for each signature, as typed:
    /// the token judges a PKCS#11 PIN (its own lengths, often letters), not PIV's 6–8 digit rule.
    package init(module: PKCS11Module, uri: PKCS11URI, intermediates: [Certificate] = [], pin: @escaping @Sendable () throws -> EnteredPIN) throws {
        let slot = try module.token(answering: uri).slot
        let session = try module.openSession(slot: slot)
        let found = try Self.signingCertificates(try session.certificates(id: uri.id, label: uri.object))
        guard let (certificate, leaf) = found.first else { throw PKCS11Error.notFound("certificate \(uri)") }
        guard found.count == 1 else { throw PKCS11Error.notFound("\(found.count) certificates answer \(uri); name one (id=)") }
        guard let algorithm = TokenInventory.algorithm(of: leaf) else { throw PKCS11Error.unsupportedKey("\(uri)") }
        self.module = module
        self.slot = slot
        self.keyID = certificate.id
        self.certificateChain = [leaf] + intermediates
        self.keyType = algorithm.keyType
        self.pinSource = pin
        lookupSession = Mutex(session)
    }

    /// The session to log in on: the look-up's the first time, a new one after.
    func takeSession() throws(PKCS11Error) -> PKCS11Session {
        if let kept = lookupSession.withLock({ kept in defer { kept = nil }; return kept }) { return kept }
        return try module.openSession(slot: slot)
    }

    /// The certificates a key not named by `id=` may be: when a token carries several (a PIV card
    /// through OpenSC: authentication, signature …), those whose key usage allows non-repudiation,
    /// what a signing certificate of a Vietnamese CA (and PIV's slot 9C) carries; all of them if
    /// none does. A certificate that does not parse is an error (the token's, named).
    static func signingCertificates(_ objects: [PKCS11Session.CertificateObject]) throws -> [(PKCS11Session.CertificateObject, Certificate)] {
        let parsed = try objects.map { object in (object, try Certificate(derEncoded: object.der)) }
        guard parsed.count > 1 else { return parsed }
        let signing = parsed.filter { (try? $0.1.extensions.keyUsage)??.nonRepudiation == true }
        return signing.isEmpty ? parsed : signing
    }

    package func sign(digest: [UInt8], algorithm: SignatureAlgorithm) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try self.signNow(digest: digest, algorithm: algorithm) }) }
        }
    }

    /// The blocking operation, for callers already off the async executors (the command line).
    /// `force`: spend the token's final PIN try (the person said so explicitly).
    /// Throws `PKCS11Error`, or what the PIN source threw (the person cancelled, no terminal …).
    package func signNow(digest: [UInt8], algorithm: SignatureAlgorithm, force: Bool = false) throws -> [UInt8] {
        let operation = try Self.operation(digest: digest, algorithm: algorithm, keyType: keyType)
        // Decided before any try is spent, as PIV's PINPolicy: the flags are all PKCS#11 gives.
        try Self.checkFlags(module: module, slot: slot, force: force)
        let pin = try pinSource()
        let session = try takeSession()
        // Lent as a copy, zeroed after the call (`EnteredPIN.withCopy`).
        let login: PKCS11Error? = pin.withCopy { bytes -> PKCS11Error? in
            do throws(PKCS11Error) { try session.login(pin: bytes) } catch { return error }
            return nil
        }
        if let login { throw Self.loginFailure(login, module: module, slot: slot) }
        defer { session.logout() }
        let keys = try session.find(class: PKCS11.CKO_PRIVATE_KEY, id: keyID, limit: 1)
        guard let key = keys.first else { throw PKCS11Error.notFound("private key with the certificate's CKA_ID") }
        let signature: [UInt8]
        do { signature = try session.sign(operation.input, key: key, mechanism: operation.mechanism, pss: operation.pss) } catch {
            throw module.named(error, slot: slot)
        }
        return try Self.finished(signature, algorithm: algorithm, keyType: keyType)
    }

    /// What the token is given for `digest`: the input, the mechanism and PSS's parameters.
    static func operation(digest: [UInt8], algorithm: SignatureAlgorithm, keyType: SignerKeyType) throws(PKCS11Error)
        -> (input: [UInt8], mechanism: CK_MECHANISM_TYPE, pss: CK_RSA_PKCS_PSS_PARAMS?) {
        guard keyType.algorithms.contains(algorithm) else { throw PKCS11Error.request(.algorithmNotSupported(algorithm, key: keyType)) }
        guard digest.count == algorithm.digest.length else { throw PKCS11Error.request(.digestLength(expected: algorithm.digest.length, actual: digest.count)) }
        switch algorithm.keyKind {
        case .ecdsa: return (digest, PKCS11.CKM_ECDSA, nil)
        case .rsa where algorithm.isPSS:
            // The token pads: MGF1 with the same hash, a salt as long as the digest (RFC 8017
            // §9.1, what CMS's RSASSA-PSS parameters in this project say: RSAPadding.pss).
            let pss = switch algorithm.digest {
            case .sha256: CK_RSA_PKCS_PSS_PARAMS(hashAlg: PKCS11.CKM_SHA256, mgf: PKCS11.CKG_MGF1_SHA256, sLen: 32)
            case .sha384: CK_RSA_PKCS_PSS_PARAMS(hashAlg: PKCS11.CKM_SHA384, mgf: PKCS11.CKG_MGF1_SHA384, sLen: 48)
            case .sha512: CK_RSA_PKCS_PSS_PARAMS(hashAlg: PKCS11.CKM_SHA512, mgf: PKCS11.CKG_MGF1_SHA512, sLen: 64)
            }
            return (digest, PKCS11.CKM_RSA_PKCS_PSS, pss)
        case .rsa: return (algorithm.digest.digestInfoPrefix + digest, PKCS11.CKM_RSA_PKCS, nil)
        }
    }

    /// The token's signature as CMS wants it.
    static func finished(_ signature: [UInt8], algorithm: SignatureAlgorithm, keyType: SignerKeyType) throws(PKCS11Error) -> [UInt8] {
        guard algorithm.keyKind == .ecdsa else { return signature }
        return try derECDSA(raw: signature, keyType: keyType)
    }

    /// Refuses before any try when the token's flags say blocked, or final try unforced.
    package static func checkFlags(module: PKCS11Module, slot: CK_SLOT_ID, force: Bool) throws(PKCS11Error) {
        switch decide(try module.tokenInfo(slot: slot), force: force) {
        case .blocked: throw PKCS11Error.pinLocked
        case .refuseLastTry: throw PKCS11Error.lastTryRefused
        case .proceed: break
        }
    }

    /// A failed C_Login, with what the token's flags say after it (never an invented count).
    static func loginFailure(_ failure: PKCS11Error, module: PKCS11Module, slot: CK_SLOT_ID) -> PKCS11Error {
        guard case .pinIncorrect = failure else { return failure }
        let after = try? module.tokenInfo(slot: slot)
        if after?.pinLocked == true { return .pinLocked }
        return .pinIncorrect(after: after?.pinFinalTry == true ? .finalTry : after?.pinCountLow == true ? .low : .unknown)
    }

    /// PIV's decision from the only facts PKCS#11 gives: CKF_USER_PIN_LOCKED is PIV's "blocked",
    /// CKF_USER_PIN_FINAL_TRY its "1 try left"; COUNT_LOW alone (some tries gone, the token does
    /// not say how many) proceeds, as PIV does with 2 or more tries left.
    static func decide(_ token: PKCS11Module.TokenInfo, force: Bool) -> PINPolicy.Decision {
        if token.pinLocked { return .blocked }
        if token.pinFinalTry { return force ? .proceed : .refuseLastTry }
        return .proceed
    }

    /// PKCS#11 gives ECDSA as r‖s (each the curve's size); CMS wants DER `ECDSA-Sig-Value`.
    static func derECDSA(raw: [UInt8], keyType: SignerKeyType) throws(PKCS11Error) -> [UInt8] {
        let size: Int
        switch keyType {
        case .ecdsaP256: size = 64
        case .ecdsaP384: size = 96
        case .rsa: return raw
        }
        guard raw.count == size, let der = ECDSASignatureDER.fromRaw(raw) else {
            throw .unsupportedKey("ECDSA signature of \(raw.count) bytes from the token")
        }
        return der
    }
}
