import CPKCS11

/// The PKCS#11 2.40 constants used here, spelled out: the header's macros (`(1UL << 2)`) do not
/// all reach Swift, and one list keeps the values we depend on in sight.
package enum PKCS11 {
    static let CKR_OK: CK_RV = 0x0
    static let CKR_SLOT_ID_INVALID: CK_RV = 0x3
    static let CKR_FUNCTION_NOT_SUPPORTED: CK_RV = 0x54
    static let CKR_CRYPTOKI_ALREADY_INITIALIZED: CK_RV = 0x191
    static let CKR_ATTRIBUTE_SENSITIVE: CK_RV = 0x11
    static let CKR_ATTRIBUTE_TYPE_INVALID: CK_RV = 0x12
    static let CKR_BUFFER_TOO_SMALL: CK_RV = 0x150
    static let CKR_DEVICE_REMOVED: CK_RV = 0x32
    static let CKR_PIN_INCORRECT: CK_RV = 0xA0
    static let CKR_PIN_INVALID: CK_RV = 0xA1
    static let CKR_PIN_LEN_RANGE: CK_RV = 0xA2
    static let CKR_PIN_EXPIRED: CK_RV = 0xA3
    static let CKR_PIN_LOCKED: CK_RV = 0xA4
    static let CKR_SESSION_HANDLE_INVALID: CK_RV = 0xB3
    static let CKR_TOKEN_NOT_PRESENT: CK_RV = 0xE0
    static let CKR_TOKEN_NOT_RECOGNIZED: CK_RV = 0xE1
    static let CKR_USER_ALREADY_LOGGED_IN: CK_RV = 0x100
    static let CKR_USER_NOT_LOGGED_IN: CK_RV = 0x101
    static let CKR_USER_PIN_NOT_INITIALIZED: CK_RV = 0x102

    static let CKF_TOKEN_PRESENT: CK_FLAGS = 1 << 0
    static let CKF_OS_LOCKING_OK: CK_FLAGS = 1 << 1
    static let CKF_SERIAL_SESSION: CK_FLAGS = 1 << 2
    static let CKF_LOGIN_REQUIRED: CK_FLAGS = 1 << 2
    static let CKF_TOKEN_INITIALIZED: CK_FLAGS = 1 << 10
    static let CKF_USER_PIN_COUNT_LOW: CK_FLAGS = 1 << 16
    static let CKF_USER_PIN_FINAL_TRY: CK_FLAGS = 1 << 17
    static let CKF_USER_PIN_LOCKED: CK_FLAGS = 1 << 18
    static let CKF_USER_PIN_TO_BE_CHANGED: CK_FLAGS = 1 << 19

    static let CKU_USER: CK_USER_TYPE = 1
    static let CKU_CONTEXT_SPECIFIC: CK_USER_TYPE = 2
    static let CKA_ALWAYS_AUTHENTICATE: CK_ATTRIBUTE_TYPE = 0x202
    static let CKO_CERTIFICATE: CK_OBJECT_CLASS = 1
    static let CKO_PRIVATE_KEY: CK_OBJECT_CLASS = 3
    static let CKA_CLASS: CK_ATTRIBUTE_TYPE = 0x0
    static let CKA_LABEL: CK_ATTRIBUTE_TYPE = 0x3
    static let CKA_VALUE: CK_ATTRIBUTE_TYPE = 0x11
    static let CKA_ID: CK_ATTRIBUTE_TYPE = 0x102
    static let CK_UNAVAILABLE_INFORMATION: CK_ULONG = ~0

    static let CKM_RSA_PKCS: CK_MECHANISM_TYPE = 0x1
    static let CKM_ECDSA: CK_MECHANISM_TYPE = 0x1041
    static let CKM_RSA_PKCS_PSS: CK_MECHANISM_TYPE = 0xD
    static let CKM_SHA256: CK_MECHANISM_TYPE = 0x250
    static let CKM_SHA384: CK_MECHANISM_TYPE = 0x260
    static let CKM_SHA512: CK_MECHANISM_TYPE = 0x270
    static let CKG_MGF1_SHA256: CK_RSA_PKCS_MGF_TYPE = 2
    static let CKG_MGF1_SHA384: CK_RSA_PKCS_MGF_TYPE = 3
    static let CKG_MGF1_SHA512: CK_RSA_PKCS_MGF_TYPE = 4
}
