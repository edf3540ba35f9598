/// Changing the holder's PIN on a token, whichever backend serves it (issue 18): `PIVPINChanger`
/// (CHANGE REFERENCE DATA) and `PKCS11PINChanger` (C_SetPIN). `gatewayd token change-pin` uses it,
/// and the console can: it asks the person for the current PIN and the new one twice, builds the
/// two `PIN`s from their bytes (`PIN(bytes:)`, never through a String), and calls `changePIN`
/// off its executors (the call blocks on the token).
///
/// The care is a signature's: the tries left are read first and the final try is never spent
/// unless `force` (the person confirmed it); a blocked PIN sends nothing; a wrong current PIN
/// costs exactly one try, changes nothing and is never retried.
package protocol TokenPINChanger: Sendable {
    /// Where the token is, for messages: the reader, or the module and token label.
    var location: String { get }
    /// Throws `PIVToken.Failure` or `PKCS11Error`, whose descriptions are the clerk's message
    /// (Vietnamese, then English): `.pinIncorrect`, `.lastTryRefused`, `.pinBlocked`/`.pinLocked` …
    func changePIN(old: PIN, new: PIN, force: Bool) throws
}
