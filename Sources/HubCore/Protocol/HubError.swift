/// Every refusal the hub answers, with its machine code, its HTTP status and its text in
/// Vietnamese and English (docs/protocol.md, "Errors").
public struct HubError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case badRequest = "bad_request"
        case unknownClient = "unknown_client"
        case forwardedIdentity = "forwarded_identity"
        case forbidden
        case senderMismatch = "sender_mismatch"
        case notFound = "not_found"
        case keyConflict = "key_conflict"
        case offsetMismatch = "offset_mismatch"
        case tusVersion = "tus_version"
        case tooLarge = "too_large"
        case contentType = "content_type"
        case unreadablePackage = "unreadable_package"
        case missingDocumentId = "missing_document_id"
        case missingRecipient = "missing_recipient"
        case noServedRecipient = "no_served_recipient"
        case busy
        case storage
        case `internal`

        public var httpStatus: Int {
            switch self {
            case .badRequest: 400
            case .unknownClient, .forwardedIdentity, .forbidden, .senderMismatch: 403
            case .notFound: 404
            case .keyConflict, .offsetMismatch: 409
            case .tusVersion: 412
            case .tooLarge: 413
            case .contentType: 415
            case .unreadablePackage, .missingDocumentId, .missingRecipient, .noServedRecipient: 422
            case .busy: 429
            case .internal: 500
            case .storage: 503
            }
        }

        /// Whether a client should try the same request again later (transient) or give up
        /// and tell a person (permanent).
        public var retry: Bool { httpStatus >= 500 || httpStatus == 408 || httpStatus == 429 }

        /// Seconds a client should wait before retrying, sent as `Retry-After`.
        public var retryAfterSeconds: Int? {
            switch self {
            case .storage: 60
            case .busy: 5
            default: nil
            }
        }
    }

    public let code: Code
    public let vi: String
    public let en: String

    public init(_ code: Code, _ vi: String, _ en: String) {
        self.code = code
        self.vi = vi
        self.en = en
    }

    public var description: String { "\(code.rawValue): \(vi) / \(en)" }

    static func notFound(_ what: String) -> HubError {
        HubError(.notFound, "Không tìm thấy \(what)", "Not found: \(what)")
    }

    static func forbiddenRoute() -> HubError {
        HubError(.forbidden, "Chứng thư số này không được dùng chức năng này", "This certificate may not use this route")
    }
}
