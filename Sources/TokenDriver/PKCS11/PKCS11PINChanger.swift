import CPKCS11

/// The user PIN of a PKCS#11 token, changed with C_SetPIN in a user session (issue 18: CA tokens
/// often arrive with CKF_USER_PIN_TO_BE_CHANGED). The care is `PKCS11Signer`'s: the token's PIN
/// flags read before any try (locked: nothing sent; final try: refused unless `force`), one
/// C_Login with the current PIN — a wrong one costs that one try and changes nothing — then
/// C_SetPIN and C_Logout.
///
/// The PINs are the bytes typed (UTF-8), as a signing session lends them: a PKCS#11 PIN is not
/// PIV's 6–8 digits, and CA tokens take others (letters, other lengths). The new one is held to
/// the token's own ulMinPinLen…ulMaxPinLen, read in the same CK_TOKEN_INFO as the flags, before
/// any try; the current one only to being there, since the token alone knows what it is (limits
/// apply to PINs being set, and refusing a right PIN by a module's odd figures would lock the
/// holder out of their own token). The bytes go to the module from copies that are zeroed.
package struct PKCS11PINChanger: TokenPINChanger {
    package let module: PKCS11Module
    package let slot: CK_SLOT_ID
    package let label: String

    /// The one token `uri` names (its `token`, `serial` … attributes; key attributes are ignored).
    package init(module: PKCS11Module, uri: PKCS11URI) throws(PKCS11Error) {
        let (slot, token) = try module.token(answering: uri)
        self.module = module
        self.slot = slot
        self.label = token.label
    }

    package var location: String { "\(module.path), token \(label)" }

    package func checkNew(_ new: EnteredPIN) throws {
        try Self.check(new: new, token: try module.tokenInfo(slot: slot))
    }

    package func changePIN(old: EnteredPIN, new: EnteredPIN, force: Bool) throws {
        try changeNow(old: old, new: new, force: force)
    }

    func changeNow(old: EnteredPIN, new: EnteredPIN, force: Bool) throws(PKCS11Error) {
        let token = try module.tokenInfo(slot: slot)
        // Blocked first (no PIN helps), then the PINs, then the final try: a clerk told of the
        // length after confirming the last try would have confirmed for nothing.
        let decision = PKCS11Signer.decide(token, force: force)
        if decision == .blocked { throw .pinLocked }
        guard old.count > 0 else { throw .pinLength(count: 0, allowed: nil) }
        try Self.check(new: new, token: token)
        if decision == .refuseLastTry { throw .lastTryRefused }

        let session = try module.openReadWriteSession(slot: slot)
        do {
            try old.withCopy { (current) throws(PKCS11Error) in try session.login(pin: current) }
        } catch .pinIncorrect {
            throw module.wrongPIN(slot: slot)
        } catch .call(function: "C_Login", rv: PKCS11.CKR_PIN_EXPIRED) {
            // A PIN that must be changed first: C_SetPIN in the R/W public session changes the user's.
        }
        defer { session.logout() }
        do {
            try old.withCopy { (current) throws(PKCS11Error) in
                try new.withCopy { (next) throws(PKCS11Error) in try session.setPIN(old: current, new: next) }
            }
        } catch .call(function: "C_SetPIN", rv: PKCS11.CKR_PIN_LEN_RANGE) {
            throw .pinLength(count: new.count, allowed: token.pinLengths)
        } catch .call(function: "C_SetPIN", rv: PKCS11.CKR_PIN_INVALID) {
            throw .newPINInvalid
        }
    }

    /// The new PIN against the token's own limits (none given: the token judges at C_SetPIN).
    static func check(new: EnteredPIN, token: PKCS11Module.TokenInfo) throws(PKCS11Error) {
        guard new.count > 0, token.pinLengths?.contains(new.count) ?? true else {
            throw .pinLength(count: new.count, allowed: token.pinLengths)
        }
    }
}

extension PKCS11Module {
    /// A read-write session (C_SetPIN wants one), closed when the value goes away.
    func openReadWriteSession(slot: CK_SLOT_ID) throws(PKCS11Error) -> PKCS11Session {
        let CKF_RW_SESSION: CK_FLAGS = 1 << 1
        var session: CK_SESSION_HANDLE = 0
        try check(functions.C_OpenSession?(slot, PKCS11.CKF_SERIAL_SESSION | CKF_RW_SESSION, nil, nil, &session), "C_OpenSession")
        return PKCS11Session(module: self, slot: slot, handle: session)
    }

    /// What a wrong PIN left, from the token's flags after it (PKCS#11 gives no count).
    func wrongPIN(slot: CK_SLOT_ID) -> PKCS11Error {
        let after = try? tokenInfo(slot: slot)
        if after?.pinLocked == true { return .pinLocked }
        return .pinIncorrect(after: after?.pinFinalTry == true ? .finalTry : after?.pinCountLow == true ? .low : .unknown)
    }
}

extension PKCS11Session {
    /// C_SetPIN: the user's PIN from `old` to `new` (in a user session, or the R/W public one).
    func setPIN(old: UnsafeBufferPointer<UInt8>, new: UnsafeBufferPointer<UInt8>) throws(PKCS11Error) {
        let rv = module.functions.C_SetPIN?(handle, UnsafeMutablePointer(mutating: old.baseAddress), CK_ULONG(old.count),
                                            UnsafeMutablePointer(mutating: new.baseAddress), CK_ULONG(new.count))
        if rv == PKCS11.CKR_PIN_INCORRECT { throw module.wrongPIN(slot: slot) }
        try module.check(rv, "C_SetPIN")
    }
}
