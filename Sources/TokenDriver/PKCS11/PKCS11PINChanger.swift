import CPKCS11

/// The user PIN of a PKCS#11 token, changed with C_SetPIN in a user session (issue 18: CA tokens
/// often arrive with CKF_USER_PIN_TO_BE_CHANGED). The care is `PKCS11Signer`'s: the token's PIN
/// flags read before any try (locked: nothing sent; final try: refused unless `force`), one
/// C_Login with the current PIN — a wrong one costs that one try and changes nothing — then
/// C_SetPIN and C_Logout. The PINs' digits are lent to the module from copies that are zeroed.
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

    package func changePIN(old: PIN, new: PIN, force: Bool) throws {
        try changeNow(old: old, new: new, force: force)
    }

    func changeNow(old: PIN, new: PIN, force: Bool) throws(PKCS11Error) {
        switch PKCS11Signer.decide(try module.tokenInfo(slot: slot), force: force) {
        case .blocked: throw .pinLocked
        case .refuseLastTry: throw .lastTryRefused
        case .proceed: break
        }
        let session = try module.openReadWriteSession(slot: slot)
        do {
            try Self.withDigits(of: old) { (current) throws(PKCS11Error) in try session.login(pin: current) }
        } catch .pinIncorrect {
            throw module.wrongPIN(slot: slot)
        } catch .call(function: "C_Login", rv: PKCS11.CKR_PIN_EXPIRED) {
            // A PIN that must be changed first: C_SetPIN in the R/W public session changes the user's.
        }
        defer { session.logout() }
        try Self.withDigits(of: old) { (current) throws(PKCS11Error) in
            try Self.withDigits(of: new) { (next) throws(PKCS11Error) in try session.setPIN(old: current, new: next) }
        }
    }

    /// The PIN's digits (its padded PIV form without the FF), lent for one call; the copy is zeroed.
    static func withDigits<T>(of pin: PIN, _ body: (UnsafeBufferPointer<UInt8>) throws(PKCS11Error) -> T) throws(PKCS11Error) -> T {
        let result: Result<T, PKCS11Error> = pin.withPaddedBytes { padded in
            var digits = Array(padded.prefix { $0 != 0xFF })
            defer { for index in digits.indices { digits[index] = 0 } }
            return digits.withUnsafeBufferPointer { bytes in Result { () throws(PKCS11Error) in try body(bytes) } }
        }
        return try result.get()
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
