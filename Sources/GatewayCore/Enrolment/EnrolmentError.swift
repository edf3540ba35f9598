import Foundation

/// Why an enrolment or a renewal did not succeed, in words a technician can act on (Vietnamese
/// first, English beside), classed so that the renewal knows what a retry can fix.
package struct EnrolmentError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Reason: String, Sendable, Equatable, Codable {
        /// Nothing to enrol with: no `[enrolment] url`, no token, no `[agency] code`.
        case notConfigured = "not_configured"
        /// 401: the token is unknown, used, expired, revoked or made for another agency (the hub
        /// says which in its own log only, on purpose).
        case tokenRefused = "token_refused"
        /// 403 on renewal: the hub no longer accepts this box's certificate (revoked, unknown).
        case certificateRefused = "certificate_refused"
        /// 400/413: the hub refused the request itself.
        case requestRefused = "request_refused"
        /// No TCP connection, a time-out, a name that does not resolve.
        case hubUnreachable = "hub_unreachable"
        /// The TLS handshake failed: the hub's certificate does not chain to `[upstream] ca_file`,
        /// or (renewal) the hub refused ours.
        case tlsNotTrusted = "tls_not_trusted"
        /// An answer that is not what the protocol says, or a certificate not for this box.
        case badAnswer = "bad_answer"
        /// Writing the key or the certificate in the data directory failed.
        case files
    }

    package var reason: Reason
    package var vi: String
    package var en: String

    package init(_ reason: Reason, vi: String, en: String) {
        (self.reason, self.vi, self.en) = (reason, vi, en)
    }

    package var message: String { "\(vi) / \(en)" }
    package var description: String { message }

    /// Only these need the technician (a new token, a fixed CA file): the renewal still retries
    /// them with backoff, but warns at once.
    package var needsTechnician: Bool {
        [.notConfigured, .tokenRefused, .certificateRefused, .tlsNotTrusted].contains(reason)
    }

    static func files(_ what: String, _ error: any Error) -> EnrolmentError {
        EnrolmentError(.files, vi: "Không ghi được \(what) vào thư mục dữ liệu: \(error)", en: "Cannot write \(what) in the data directory: \(error)")
    }

    static func badAnswer(_ what: String) -> EnrolmentError {
        EnrolmentError(.badAnswer, vi: "Máy chủ cấp trên trả lời không đúng giao thức ghi danh: \(what)",
                       en: "The hub's enrolment answer breaks the protocol: \(what)")
    }
}
