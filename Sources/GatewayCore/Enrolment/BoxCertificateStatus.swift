import DocumentModel
import Foundation

/// The box certificate's part of `gatewayd status` and the metrics, from the renewal's state file
/// (so it is there whoever reads it, and after a restart before the first attempt).
package struct BoxCertificateStatus: Codable, Sendable, Equatable {
    package var expiresAt: Date
    package var nextRenewalAt: Date
    package var lastAttemptAt: Date?
    package var lastError: String?
    package var failures: Int
    package var renewedAt: Date?
    /// Vietnamese / English; nil while all is well (`RenewalState.warning`).
    package var warning: String?

    enum CodingKeys: String, CodingKey {
        case expiresAt = "expires_at", nextRenewalAt = "next_renewal_at", lastAttemptAt = "last_attempt_at", lastError = "last_error"
        case failures, renewedAt = "renewed_at", warning
    }

    /// Nil when the box does not renew (no enrolment, or not started yet).
    package static func read(dataDirectory: String, now: Date) -> BoxCertificateStatus? {
        guard let state = RenewalState.load(BoxIdentityFiles(dataDirectory: dataDirectory).state) else { return nil }
        return BoxCertificateStatus(expiresAt: state.notAfter, nextRenewalAt: state.nextAttemptAt, lastAttemptAt: state.lastAttemptAt,
                                    lastError: state.lastErrorVi.flatMap { vi in state.lastErrorEn.map { "\(vi) / \($0)" } },
                                    failures: state.failures, renewedAt: state.renewedAt, warning: state.warning(now: now))
    }
}
