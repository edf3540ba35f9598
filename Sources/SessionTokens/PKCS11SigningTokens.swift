// The signing stage's tokens over PKCS#11 (issue 18): a token in a module (SoftHSM2, OpenSC's
// opensc-pkcs11.so for an ePass2003 or IDPrime, a CA vendor's module) opened for one signing
// session, as PIVSigningTokens opens a PIV card. `BoxSigningTokens` chooses between the two.
import Dispatch
import GatewayCore
import Signing
import TokenDriver
import X509

package struct PKCS11SigningTokens: Sendable {
    /// The issuing CA's certificates, which a token may not carry (from the configuration).
    let intermediates: [Certificate]

    package init(intermediates: [Certificate] = []) {
        self.intermediates = intermediates
    }

    /// The key `uri` names, in the module the URI names (`module-path`) or else in the one of
    /// `modules` where exactly one token answers it. Reads the certificate only: the PIN is sent
    /// at the first signature, after the stage has checked the certificate.
    func openNow(uri: PKCS11URI, modules: [String], pin: SessionPIN, confirmLastTry: Bool) throws(SessionTokenFailure) -> PKCS11SessionToken {
        var found: [(PKCS11Module, PKCS11Module.Slot)] = []
        var problems: [String] = []
        for path in uri.modulePath.map({ [$0] }) ?? modules {
            do {
                let module = try PKCS11Module.load(path: path)
                for slot in try module.slots() {
                    guard let token = slot.token, uri.matches(token), uri.slotID == nil || uri.slotID == slot.id else { continue }
                    found.append((module, slot))
                }
            } catch {
                problems.append(error.description)
            }
        }
        let problemText = problems.isEmpty ? "" : " — " + problems.joined(separator: "; ")
        guard let (module, slot) = found.first else {
            throw .noToken("không token nào khớp / no token answers \(uri)" + (uri.modulePath == nil && modules.isEmpty ? " ([tokens] modules is empty)" : "") + problemText)
        }
        guard found.count == 1 else {
            throw .noToken("có \(found.count) token khớp, hãy chọn token= hoặc serial= / \(found.count) tokens answer \(uri): name one (token=, serial=)")
        }
        var exact = uri
        exact.slotID = UInt(slot.id)
        let signer: PKCS11Signer
        do {
            signer = try PKCS11Signer(module: module, uri: exact, intermediates: intermediates) { throw PKCS11Error.sessionEnded }
        } catch {
            throw Self.failure(error, opening: true)
        }
        var shown = PKCS11URI(token: slot.token?.label, id: signer.keyID)
        shown.serial = slot.token?.serial
        return PKCS11SessionToken(signer: signer, location: "\(shown) (\(module.path))", pin: pin, confirmLastTry: confirmLastTry)
    }

    /// What the stage is told of a PKCS#11 failure. `opening`: nothing was found yet, so a token
    /// or object that is not there is "no token", not "removed".
    package static func failure(_ error: any Error, opening: Bool = false) -> SessionTokenFailure {
        switch error {
        case let failure as SessionTokenFailure: return failure
        case let error as PKCS11Error:
            switch error {
            case .pinIncorrect(.finalTry): return .wrongPIN(triesLeft: 1)
            case .pinIncorrect: return .wrongPIN(triesLeft: nil)
            case .pinLocked: return .blocked
            case .lastTryRefused: return .lastTryNeedsConfirmation
            case .pinFormat(let format): return .pinFormat(format.description)
            case .pinLength, .newPINInvalid: return .pinFormat(error.description)
            case .tokenNotPresent, .deviceRemoved: return opening ? .noToken(error.description) : .removed(error.description)
            case .notFound, .module: return .noToken(error.description)
            case .call(_, let rv) where rv == 0xB0 || rv == 0xB3:  // CKR_SESSION_CLOSED, CKR_SESSION_HANDLE_INVALID: the token went
                return .removed(error.description)
            case .unsupportedKey, .request, .sessionEnded, .tokenBusy, .call: return .token(error.description)
            }
        default: return .token("\(error)")
        }
    }
}

/// One session's PKCS#11 token: the signer the stage holds and where the token is.
final class PKCS11SessionToken: SessionToken, @unchecked Sendable {
    let location: String
    private let session: PKCS11SessionSigner
    var signer: any Signer { session }

    init(signer: PKCS11Signer, location: String, pin: SessionPIN, confirmLastTry: Bool) {
        self.location = location
        session = PKCS11SessionSigner(signer: signer, pin: pin, confirmLastTry: confirmLastTry)
    }

    func close() { session.close() }
}

/// The stage's signer over PKCS#11: the first signature logs in (one C_Login per session), the
/// next ones use the same login, `close()` logs out. A failure ends the session here, whatever
/// the caller does next: after a wrong PIN nothing more is sent, so the same PIN is never tried
/// twice. The PIN reaches the module from the session's own buffer, never as a String.
final class PKCS11SessionSigner: Signer, @unchecked Sendable {
    let certificateChain: [Certificate]
    let keyType: SignerKeyType
    private let pin: SessionPIN
    private let confirmLastTry: Bool
    /// Module calls block: they run here one at a time, off the caller's executor; `signer`,
    /// `session` and `stoppedBy` are touched only here.
    private let queue = DispatchQueue(label: "gatewayd.pkcs11-session")
    private var signer: PKCS11Signer?
    private var session: PKCS11SigningSession?
    private var stoppedBy: SessionTokenFailure?

    init(signer: PKCS11Signer, pin: SessionPIN, confirmLastTry: Bool) {
        certificateChain = signer.certificateChain
        keyType = signer.keyType
        self.signer = signer
        self.pin = pin
        self.confirmLastTry = confirmLastTry
    }

    func sign(digest: [UInt8], algorithm: SignatureAlgorithm) async throws -> [UInt8] {
        let signed = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[UInt8], SessionTokenFailure>, Never>) in
            queue.async { [self] in
                continuation.resume(returning: Result { () throws(SessionTokenFailure) in try signNow(digest: digest, algorithm: algorithm) })
            }
        }
        return try signed.get()
    }

    private func signNow(digest: [UInt8], algorithm: SignatureAlgorithm) throws(SessionTokenFailure) -> [UInt8] {
        guard let signer else {
            throw .token("Phiên ký đã kết thúc / the signing session has ended" + (stoppedBy.map { ": \($0)" } ?? ""))
        }
        let pin = self.pin
        let lend: PKCS11SigningSession.PINLender = { use in pin.withBytes { use($0) } }
        do throws(PKCS11Error) {
            let session: PKCS11SigningSession
            if let opened = self.session { session = opened } else {
                session = try PKCS11SigningSession(signer: signer, force: confirmLastTry, pin: lend)
                self.session = session
            }
            return try session.sign(digest: digest, algorithm: algorithm, pin: lend)
        } catch {
            let failure = PKCS11SigningTokens.failure(error)
            stoppedBy = failure
            endNow()
            throw failure
        }
    }

    private func endNow() {
        session?.close()
        session = nil
        signer = nil
    }

    /// After any signature under way: C_Logout, and the session's handle closed — before this
    /// returns, so that the next session on the token finds it logged out (a login while this one
    /// is still logged in is refused as `tokenBusy`, PKCS#11 logins being the token's).
    func close() {
        queue.sync { endNow() }
    }
}
