/// Changing the holder's PIN on a token, whichever backend serves it (issue 18): `PIVPINChanger`
/// (CHANGE REFERENCE DATA) and `PKCS11PINChanger` (C_SetPIN). `gatewayd token change-pin` uses it,
/// and the console's PIN change (SessionTokens' `BoxSigningTokens.changePIN`) does the same: the
/// current PIN and the new one as the person typed them (`EnteredPIN`, never through a String),
/// `changePIN` called off the executors (the call blocks on the token).
///
/// Which PINs a token takes is its backend's rule, checked before anything is sent: PIV's 6 to 8
/// digits; a PKCS#11 token's own lengths (CK_TOKEN_INFO's ulMinPinLen…ulMaxPinLen), letters
/// allowed — CA tokens (ePass2003, eToken, Bit4id) take PINs PIV would refuse.
///
/// The care is a signature's: the tries left are read first and the final try is never spent
/// unless `force` (the person confirmed it); a blocked PIN sends nothing; a wrong current PIN
/// costs exactly one try, changes nothing and is never retried.
package protocol TokenPINChanger: Sendable {
    /// Where the token is, for messages: the reader, or the module and token label.
    var location: String { get }
    /// Whether `new` is a PIN this token takes, asked before the current PIN is (a command line
    /// says so before the new PIN is typed a second time). Sends no PIN.
    func checkNew(_ new: EnteredPIN) throws
    /// Throws `PIVToken.Failure` or `PKCS11Error`, whose descriptions are the clerk's message
    /// (Vietnamese, then English): `.pinIncorrect`, `.lastTryRefused`, `.pinBlocked`/`.pinLocked`,
    /// `.pinFormat`/`.pinLength` (nothing sent) …
    func changePIN(old: EnteredPIN, new: EnteredPIN, force: Bool) throws
}
