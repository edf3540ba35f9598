import Signing
import Synchronization

/// The seam between the signing stage and the tokens: the stage (GatewayCore) decides what is
/// signed, in which role, by whom; an implementation over TokenDriver (in `gatewayd`) opens the
/// token the person plugged in. Tests use a key file behind the same protocol.
///
/// Why a seam and not TokenDriver here: GatewayCore stays free of PC/SC, so its tests run without
/// pcscd, and a second backend (PKCS#11, the issue "Real Vietnamese signing tokens") is another
/// implementation of this protocol, not a change to the stage.
package protocol SigningTokens: Sendable {
    /// Opens the token in `reader` (nil: the one reader that holds a token) at `key` (the
    /// backend's key name, e.g. PIV slot "9c"; nil: its signature key). Reads the certificate
    /// only: no PIN is sent here, so a token that may not sign in the session's role is refused
    /// before any try is spent. The PIN is used by each signature (`SessionToken.signer`).
    func open(reader: String?, key: String?, pin: SessionPIN, confirmLastTry: Bool) async throws(SessionTokenFailure) -> any SessionToken

    /// Changes the holder's PIN on the token in `reader` that holds `key` (nil as for `open`): the
    /// tries left are read first, the final try is used only with `confirmLastTry`, a blocked PIN
    /// sends nothing, a wrong current PIN costs exactly one try and changes nothing (it is never
    /// retried). The PINs are lent for the call; the caller wipes them (`SigningStage.changePIN`).
    func changePIN(reader: String?, key: String?, current: SessionPIN, new: SessionPIN, confirmLastTry: Bool) async throws(SessionTokenFailure)
}

/// An opened token for one session. `close()` ends it: the connection is dropped and the PIN
/// is no longer used (the stage zeroes it).
package protocol SessionToken: Sendable {
    /// Signs with the session's PIN; its failures are `SessionTokenFailure` (or wrap one).
    var signer: any Signer { get }
    /// Where the token is, for the history and the progress: "Virtual PCD 00 00, slot 9c".
    var location: String { get }
    func close()
}

/// Why a session cannot go on: each one ends the session (a wrong PIN is never retried).
package enum SessionTokenFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case noToken(String)
    /// nil: the token does not say how many tries are left (a PKCS#11 token sets flags, not a count).
    case wrongPIN(triesLeft: Int?)
    /// One try left and the person did not confirm using it.
    case lastTryNeedsConfirmation
    case blocked
    case removed(String)
    case pinFormat(String)
    case token(String)

    package var description: String {
        switch self {
        case .noToken(let detail): "Không thấy token / no token: \(detail)"
        case .wrongPIN(let tries?): "Sai mã PIN, còn \(tries) lần thử — phiên ký dừng / wrong PIN, \(tries) tries left: the session stops"
        case .wrongPIN(nil):
            "Sai mã PIN; token không cho biết còn bao nhiêu lần thử — phiên ký dừng / wrong PIN; the token does not say how many tries are left: the session stops"
        case .lastTryNeedsConfirmation:
            "Chỉ còn 1 lần thử PIN: cần xác nhận rõ ràng để dùng lần cuối / one PIN try left: using it needs explicit confirmation"
        case .blocked: "Token đã bị khóa PIN — liên hệ nhà cung cấp để mở khóa / the token's PIN is blocked: its provider must unblock it"
        case .removed(let detail): "Token đã bị rút ra / the token was removed: \(detail)"
        case .pinFormat(let detail): detail
        case .token(let detail): detail
        }
    }

    /// The word the API and the history use.
    package var code: String {
        switch self {
        case .noToken: "no_token"
        case .wrongPIN: "wrong_pin"
        case .lastTryNeedsConfirmation: "last_try_needs_confirmation"
        case .blocked: "pin_blocked"
        case .removed: "token_removed"
        case .pinFormat: "pin_format"
        case .token: "token_error"
        }
    }
}

/// The PIN of one session: one buffer, zeroed by `wipe()` when the session ends (and on release),
/// never logged, never stored, never copied into a String by the stage.
/// `@unchecked Sendable`: the bytes are written in `init` and `wipe` only, and read and wiped under
/// the `wiped` lock.
package final class SessionPIN: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    /// Whether the bytes were wiped; held while they are lent, so a wipe waits for the reader.
    private let wiped = Mutex(false)

    /// Takes the bytes and zeroes the caller's array.
    package init(consuming bytes: inout [UInt8]) {
        buffer = .allocate(capacity: max(bytes.count, 1))
        buffer.initialize(repeating: 0)
        for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        count = bytes.count
        for index in bytes.indices { bytes[index] = 0 }
    }

    package let count: Int

    /// Lends the bytes (nil once wiped) for building one verification.
    package func withBytes<T>(_ body: (UnsafeBufferPointer<UInt8>?) throws -> T) rethrows -> T {
        try wiped.withLock { wiped in
            if wiped { return try body(nil) }
            return try body(UnsafeBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    package func wipe() {
        wiped.withLock { wiped in
            for index in buffer.indices { buffer[index] = 0 }
            wiped = true
        }
    }

    deinit {
        for index in buffer.indices { buffer[index] = 0 }
        buffer.deallocate()
    }

    package var description: String { "PIN(redacted)" }
    package var debugDescription: String { "PIN(redacted)" }
}
