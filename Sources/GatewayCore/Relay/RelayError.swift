import Foundation

/// Why a relay exchange did not succeed, classed for the retry rule, with the hub's reason kept
/// in both languages for the clerk (docs/protocol.md "Errors").
public struct RelayError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The hub refused for good (4xx): the document is rejected, not retried.
        case permanent
        /// Try again later (5xx, 408, 429, a broken link, a time-out).
        case transient
        /// The hub's identity or receipt could not be trusted (TLS, pin, receipt check): a
        /// technician must look; retried with backoff so the box recovers once it is fixed.
        case untrusted
    }

    public var kind: Kind
    /// The hub's error code (`sender_mismatch`, …) or ours (`connection`, `receipt_invalid`, …).
    public var code: String
    public var messageVietnamese: String
    public var messageEnglish: String
    public var httpStatus: Int?
    public var retryAfter: Duration?

    public init(kind: Kind, code: String, vi: String, en: String, httpStatus: Int? = nil, retryAfter: Duration? = nil) {
        self.kind = kind
        self.code = code
        self.messageVietnamese = vi
        self.messageEnglish = en
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
    }

    /// "Tiếng Việt / English", what the document's reason and the status show.
    public var message: String { "\(messageVietnamese) / \(messageEnglish)" }
    public var description: String { "\(code)\(httpStatus.map { " (HTTP \($0))" } ?? ""): \(message)" }

    /// The hub's JSON error body, classed by its HTTP status.
    public static func fromHub(status: Int, body: [UInt8], retryAfter: Duration?) -> RelayError {
        struct Body: Decodable {
            struct Inner: Decodable {
                var code: String
                var message_vi: String?
                var message_en: String?
                var message: String?
            }
            var error: Inner
        }
        let parsed = try? JSONDecoder().decode(Body.self, from: Data(body))
        let code = parsed?.error.code ?? "http_\(status)"
        let kind: Kind = RelayAnswerClass.of(status: status, errorCode: code) == .permanent ? .permanent : .transient
        let vi = parsed?.error.message_vi ?? parsed?.error.message ?? "Máy chủ cấp trên trả lời HTTP \(status)"
        let en = parsed?.error.message_en ?? parsed?.error.message ?? "The hub answered HTTP \(status)"
        return RelayError(kind: kind, code: code, vi: vi, en: en, httpStatus: status, retryAfter: retryAfter)
    }

    public static func connection(_ error: any Error) -> RelayError {
        let text = String(describing: error)
        // A handshake the hub (or we) refused is a certificate problem a retry will not fix, but
        // it is still retried with backoff: the technician's fix must not need a restart.
        let tls = text.contains("handshake") || text.contains("NIOSSL") || text.contains("certificate") || text.contains("TLS")
        if tls {
            return RelayError(kind: .untrusted, code: "tls", vi: "Không thiết lập được kết nối TLS với cấp trên (chứng thư số?): \(text)",
                              en: "TLS with the hub failed (certificates?): \(text)")
        }
        return RelayError(kind: .transient, code: "connection", vi: "Mất kết nối với cấp trên: \(text)",
                          en: "Connection to the hub failed: \(text)")
    }

    static func protocolViolation(_ what: String) -> RelayError {
        RelayError(kind: .transient, code: "protocol", vi: "Máy chủ cấp trên trả lời sai giao thức: \(what)",
                   en: "The hub's answer breaks the protocol: \(what)")
    }
}
