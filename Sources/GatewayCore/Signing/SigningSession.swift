import DocumentSigning
import Foundation
import SigningPolicy

/// What a person asks for when they open a signing session (`POST /v1/signing-sessions`,
/// `gatewayd sign-queue`). The PIN travels beside it, never inside it: this value is logged and
/// kept in the session's status.
package struct SigningSessionRequest: Sendable, Codable, Equatable {
    /// `leader` or `organization`.
    package var role: SigningRole
    /// The documents to sign, in this order; empty: every document waiting for this role.
    package var documents: [DocumentID]
    /// The reader that holds the token; nil: the one reader with a token.
    package var reader: String?
    /// The token's key (PIV slot, default 9c).
    package var key: String?
    /// The person confirmed that the token's last PIN try may be used.
    package var confirmLastTry: Bool
    /// Who opened the session, for the history (`gatewayd sign-queue`, the console's user).
    package var openedBy: String
    /// The identity (`CCCD:…`) the token's certificate must carry: a lãnh đạo's console account is
    /// bound to one leader, who signs only with their own token. nil: any configured leader.
    package var expectedIdentity: String?

    package init(role: SigningRole, documents: [DocumentID] = [], reader: String? = nil, key: String? = nil,
                 confirmLastTry: Bool = false, openedBy: String, expectedIdentity: String? = nil) {
        (self.role, self.documents, self.reader, self.key, self.confirmLastTry, self.openedBy) = (role, documents, reader, key, confirmLastTry, openedBy)
        self.expectedIdentity = expectedIdentity
    }

    enum CodingKeys: String, CodingKey {
        case role, documents, reader, key, confirmLastTry = "confirm_last_try", openedBy = "opened_by", expectedIdentity = "expected_identity"
    }
}

/// A session as the API and the command line show it: its progress ("văn bản 3/12 — <trích
/// yếu>") and a result per document.
package struct SigningSessionStatus: Sendable, Codable, Equatable {
    package enum Phase: String, Sendable, Codable {
        case signing
        /// Every chosen document was tried.
        case finished
        /// Ended early: token, PIN or certificate error, token removed, time limit.
        case stopped
    }

    package struct DocumentResult: Sendable, Codable, Equatable {
        package enum Outcome: String, Sendable, Codable {
            case signed
            /// Not signed, for a reason of this document (already signed, not a PDF, changed).
            case refused
            /// Not reached: the session stopped before it.
            case notSigned = "not_signed"
        }

        package var document: DocumentID
        package var subject: String?
        package var outcome: Outcome
        package var message: String?
        /// The register's number, given at sealing: `01/QĐ-UBND`.
        package var number: String?
        package var state: DocumentState?
    }

    package var id: String
    package var role: SigningRole
    package var phase: Phase
    package var signer: String
    package var identity: String
    package var token: String
    package var openedBy: String
    package var startedAt: Date
    package var finishedAt: Date?
    package var total: Int
    /// "văn bản 3/12 — Quyết định về …" while signing.
    package var progress: String?
    package var results: [DocumentResult]
    /// Why the session stopped early: `wrong_pin`, `token_removed`, `time_limit` …
    package var stopCode: String?
    package var stopMessage: String?
    /// Shown although signing went ahead (revocation not confirmed).
    package var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case id, role, phase, signer, identity, token, openedBy = "opened_by", startedAt = "started_at", finishedAt = "finished_at"
        case total, progress, results, stopCode = "stop_code", stopMessage = "stop_message", warnings
    }
}

/// Why a session could not be opened: nothing was signed and no PIN try was spent unless the
/// code says so (`wrong_pin`).
package struct SigningSessionRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    package var code: String
    package var message: String
    /// HTTP status for the API: 409 for a session already running, 422 for the rest.
    package var httpStatus: Int

    package init(code: String, message: String, httpStatus: Int = 422) {
        (self.code, self.message, self.httpStatus) = (code, message, httpStatus)
    }

    package init(_ refusal: SigningRefusal) { self.init(code: refusal.code.rawValue, message: refusal.message) }
    package init(_ failure: SessionTokenFailure) { self.init(code: failure.code, message: failure.description) }

    package var description: String { message }
}
