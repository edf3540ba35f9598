import AsyncHTTPClient
import DocumentModel
import Foundation
import NIOSSL

/// Why a relay exchange did not succeed, classed for the retry rule, with the hub's reason kept
/// in both languages for the clerk (docs/protocol.md "Errors").
package struct RelayError: Error, Sendable, Equatable, CustomStringConvertible {
    package typealias Kind = RelayFailureKind

    /// The hub's refusal code (`RelayWire`), or the box's own reasons.
    package enum Code: Sendable, Hashable, CustomStringConvertible {
        /// A refusal the hub explained with one of the protocol's codes.
        case hub(RelayErrorCode)
        /// An HTTP refusal without a code this box knows (a newer hub's, or a proxy's page):
        /// classed by its status alone.
        case http(status: Int, hubCode: String?)
        case notConfigured
        case hubCA
        case boxCertificate
        case tls
        case connection
        case protocolViolation
        case store
        case receiptInvalid
        case noProgress
        case statusPackage

        /// The code as logs, statuses and the documents' history have always spelled it.
        package var description: String {
            switch self {
            case .hub(let code): code.rawValue
            case .http(let status, let hubCode): hubCode ?? "http_\(status)"
            case .notConfigured: "not_configured"
            case .hubCA: "hub_ca"
            case .boxCertificate: "box_certificate"
            case .tls: "tls"
            case .connection: "connection"
            case .protocolViolation: "protocol"
            case .store: "store"
            case .receiptInvalid: "receipt_invalid"
            case .noProgress: "no_progress"
            case .statusPackage: "status_package"
            }
        }
    }

    package var kind: Kind
    package var code: Code
    package var messageVietnamese: String
    package var messageEnglish: String
    package var httpStatus: Int?
    package var retryAfter: Duration?

    package init(kind: Kind, code: Code, vi: String, en: String, httpStatus: Int? = nil, retryAfter: Duration? = nil) {
        self.kind = kind
        self.code = code
        self.messageVietnamese = vi
        self.messageEnglish = en
        self.httpStatus = httpStatus
        self.retryAfter = retryAfter
    }

    /// "Tiếng Việt / English", what the document's reason and the status show.
    package var message: String { "\(messageVietnamese) / \(messageEnglish)" }
    package var description: String { "\(code)\(httpStatus.map { " (HTTP \($0))" } ?? ""): \(message)" }

    /// The hub's JSON error body (`RelayErrorBody`), classed by its HTTP status.
    package static func fromHub(status: Int, body: [UInt8], retryAfter: Duration?) -> RelayError {
        let parsed = RelayErrorBody(decoding: body)?.error
        let known = parsed.flatMap { RelayErrorCode(rawValue: $0.code) }
        let code: Code = known.map(Code.hub) ?? .http(status: status, hubCode: parsed?.code)
        let kind: Kind = RelayAnswerClass.of(status: status, code: known) == .permanent ? .permanent : .transient
        let vi = parsed?.message_vi ?? parsed?.message ?? "Máy chủ cấp trên trả lời HTTP \(status)"
        let en = parsed?.message_en ?? parsed?.message ?? "The hub answered HTTP \(status)"
        return RelayError(kind: kind, code: code, vi: vi, en: en, httpStatus: status, retryAfter: retryAfter)
    }

    package static func connection(_ error: any Error) -> RelayError {
        let text = String(describing: error)
        // A handshake the hub (or we) refused is a certificate problem a retry will not fix, but
        // it is still retried with backoff: the technician's fix must not need a restart.
        if isTLSFailure(error) {
            return RelayError(kind: .untrusted, code: .tls, vi: "Không thiết lập được kết nối TLS với cấp trên (chứng thư số?): \(text)",
                              en: "TLS with the hub failed (certificates?): \(text)")
        }
        return RelayError(kind: .transient, code: .connection, vi: "Mất kết nối với cấp trên: \(text)",
                          en: "Connection to the hub failed: \(text)")
    }

    /// Recognised by the error's type: NIOSSL's errors (a refused handshake, a certificate that
    /// does not verify, the peer closing mid-handshake) and AsyncHTTPClient's TLS time-out.
    static func isTLSFailure(_ error: any Error) -> Bool {
        switch error {
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError: true
        case let error as HTTPClientError: error == .tlsHandshakeTimeout
        default: false
        }
    }

    static func protocolViolation(_ what: String) -> RelayError {
        RelayError(kind: .transient, code: .protocolViolation, vi: "Máy chủ cấp trên trả lời sai giao thức: \(what)",
                   en: "The hub's answer breaks the protocol: \(what)")
    }

    static func store(_ error: any Error) -> RelayError {
        RelayError(kind: .transient, code: .store, vi: "Lỗi lưu trữ: \(error)", en: "Store failure: \(error)")
    }
}
