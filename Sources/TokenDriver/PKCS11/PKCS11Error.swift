import CPKCS11
import Signing

/// Why a PKCS#11 operation failed, named, with the clerk's message in Vietnamese and English.
/// The PIN cases say the same as PIV's (`PIVToken.Failure`) where PKCS#11 knows as much: it has no
/// count of tries, only the token's CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED flags, so a wrong
/// PIN reports what those flags say after it, never an invented number.
package enum PKCS11Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// The module could not be loaded or is not PKCS#11 (a missing file, another architecture …).
    case module(path: String, reason: String)
    /// A wrong PIN; `after`: what the token's flags say now.
    case pinIncorrect(after: PINCount)
    /// CKR_PIN_LOCKED, or CKF_USER_PIN_LOCKED seen before any try: nothing was sent.
    case pinLocked
    /// CKF_USER_PIN_FINAL_TRY and the caller did not force: nothing was sent.
    case lastTryRefused
    case pinFormat(PIN.FormatError)
    /// A new PIN of `count` bytes, outside the token's own `allowed` lengths (CK_TOKEN_INFO's
    /// ulMinPinLen…ulMaxPinLen; nil when the token gives none): refused before anything was sent.
    case pinLength(count: Int, allowed: ClosedRange<Int>?)
    /// C_SetPIN answered CKR_PIN_INVALID: the token takes no such PIN (letters or signs it does
    /// not allow). The current PIN was right; nothing was changed.
    case newPINInvalid
    case tokenNotPresent
    case deviceRemoved
    /// No token, certificate or key answers the URI.
    case notFound(String)
    case unsupportedKey(String)
    case request(SignerError)
    /// The signing session was closed (its PIN wiped) before this signature.
    case sessionEnded
    /// CKR_USER_ALREADY_LOGGED_IN: another session of this process is logged in to the token.
    /// PKCS#11 logins belong to the token, not to a session, so a second login would be answered
    /// without the PIN being checked at all: refused, never signed on.
    case tokenBusy
    /// Any other return value, with the function that gave it.
    case call(function: String, rv: CK_RV)

    package enum PINCount: Sendable, Equatable {
        /// The token does not say how many tries are left (no flag set).
        case unknown
        /// CKF_USER_PIN_COUNT_LOW: some tries are gone; the token does not say how many.
        case low
        /// CKF_USER_PIN_FINAL_TRY: one try left, as PIV's "1 try left".
        case finalTry
    }

    init(rv: CK_RV, function: String) {
        switch rv {
        case PKCS11.CKR_PIN_INCORRECT: self = .pinIncorrect(after: .unknown)
        case PKCS11.CKR_PIN_LOCKED: self = .pinLocked
        case PKCS11.CKR_TOKEN_NOT_PRESENT: self = .tokenNotPresent
        case PKCS11.CKR_DEVICE_REMOVED: self = .deviceRemoved
        default: self = .call(function: function, rv: rv)
        }
    }

    package var description: String {
        switch self {
        case .module(let path, let reason):
            "Không nạp được mô-đun PKCS#11 \(path) / cannot load the PKCS#11 module \(path): \(reason)"
        case .pinIncorrect(.unknown):
            "Mã PIN sai; token không cho biết còn bao nhiêu lần thử. / Wrong PIN; the token does not say how many tries are left."
        case .pinIncorrect(.low):
            "Mã PIN sai; token báo số lần thử còn ít. / Wrong PIN; the token says few tries are left."
        case .pinIncorrect(.finalTry):
            "Mã PIN sai, còn 1 lần thử. / Wrong PIN, 1 try left."
        case .pinLocked:
            "Token đã bị khóa mã PIN; cần nhà cung cấp mở khóa. / The token's PIN is blocked; its provider must unblock it."
        case .lastTryRefused:
            "Chỉ còn 1 lần thử mã PIN: không thử để tránh khóa token (dùng --force nếu chắc chắn). / One PIN try left: not tried, to avoid locking the token (use --force if you are sure)."
        case .pinFormat(let error): error.description
        case .pinLength(0, _): "Chưa nhập mã PIN. / No PIN was given."
        case .pinLength(let count, let allowed?):
            "Mã PIN của token này phải dài từ \(allowed.lowerBound) đến \(allowed.upperBound) ký tự (đã nhập \(count)). / This token's PIN must be \(allowed.lowerBound) to \(allowed.upperBound) characters long (\(count) given)."
        case .pinLength(let count, nil):
            "Token không nhận mã PIN dài \(count) ký tự. / The token does not take a PIN \(count) characters long."
        case .newPINInvalid:
            "Token không nhận mã PIN mới này (có thể không cho phép chữ cái hay ký hiệu); chưa đổi gì. / The token does not take this new PIN (it may not allow letters or signs); nothing was changed."
        case .tokenNotPresent: "Không có token trong khe / no token in the slot"
        case .deviceRemoved: "Token đã bị rút ra / the token was removed"
        case .notFound(let what): "Không tìm thấy / not found: \(what)"
        case .unsupportedKey(let what): "Khóa không được hỗ trợ / unsupported key: \(what)"
        case .request(let error): error.description
        case .sessionEnded: "Phiên ký đã kết thúc / the signing session has ended"
        case .tokenBusy:
            "Token đang được một phiên ký khác dùng: kết thúc phiên đó rồi thử lại / the token is in use by another signing session: end it, then try again"
        case .call(let function, let rv): "Token từ chối \(function) / the token refused \(function): \(Self.name(of: rv))"
        }
    }

    /// The return value's PKCS#11 name where we know it, its number otherwise.
    static func name(of rv: CK_RV) -> String {
        let names: [CK_RV: String] = [
            PKCS11.CKR_OK: "CKR_OK", PKCS11.CKR_FUNCTION_NOT_SUPPORTED: "CKR_FUNCTION_NOT_SUPPORTED",
            PKCS11.CKR_CRYPTOKI_ALREADY_INITIALIZED: "CKR_CRYPTOKI_ALREADY_INITIALIZED", PKCS11.CKR_DEVICE_REMOVED: "CKR_DEVICE_REMOVED",
            PKCS11.CKR_PIN_INCORRECT: "CKR_PIN_INCORRECT", PKCS11.CKR_PIN_INVALID: "CKR_PIN_INVALID", PKCS11.CKR_PIN_LEN_RANGE: "CKR_PIN_LEN_RANGE",
            PKCS11.CKR_PIN_EXPIRED: "CKR_PIN_EXPIRED", PKCS11.CKR_PIN_LOCKED: "CKR_PIN_LOCKED",
            PKCS11.CKR_SESSION_HANDLE_INVALID: "CKR_SESSION_HANDLE_INVALID", PKCS11.CKR_TOKEN_NOT_PRESENT: "CKR_TOKEN_NOT_PRESENT",
            PKCS11.CKR_TOKEN_NOT_RECOGNIZED: "CKR_TOKEN_NOT_RECOGNIZED", PKCS11.CKR_USER_NOT_LOGGED_IN: "CKR_USER_NOT_LOGGED_IN",
            PKCS11.CKR_USER_PIN_NOT_INITIALIZED: "CKR_USER_PIN_NOT_INITIALIZED",
        ]
        return names[rv] ?? "CKR 0x" + String(rv, radix: 16)
    }
}
