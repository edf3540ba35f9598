import DocumentModel
import Foundation

/// What `gatewayd status` and `GET /v1/status` show of the relay.
package struct RelayStatus: Sendable, Codable, Equatable {
    package struct Lane: Sendable, Codable, Equatable {
        package var lane: String
        package var name: String
        package var queued: Int
        package var sending: Int
    }

    /// `unknown` (not tried yet), `up`, `down` on the wire; typed here.
    package var link: RelayLink
    package var hub: String?
    package var linkSince: Date?
    package var lastSuccessAt: Date?
    package var lastError: String?
    package var lastErrorAt: Date?
    package var lanes: [Lane]
    /// Decision 28/2018 warning: documents waiting longer than `upstream.max_queue_age`.
    package var warning: String?
    package var maximumQueueAgeSeconds: Int64
    package var inboxReceived: Int
    /// Since when the longest-waiting queued document has waited; nil when none waits.
    package var oldestQueuedAt: Date?
    /// Incoming items and 01 statuses set aside, each retried on its own backoff (docs/relay.md).
    package var inboxSetAside: [SetAside]? = nil

    package struct SetAside: Sendable, Codable, Equatable {
        package var what: String
        package var reason: String
        package var failures: Int
        package var retryAt: Date

        enum CodingKeys: String, CodingKey { case what, reason, failures, retryAt = "retry_at" }
    }

    enum CodingKeys: String, CodingKey {
        case link, hub, linkSince = "link_since", lastSuccessAt = "last_success_at", lastError = "last_error"
        case lastErrorAt = "last_error_at", lanes, warning, maximumQueueAgeSeconds = "max_queue_age_seconds", inboxReceived = "inbox_received"
        case oldestQueuedAt = "oldest_queued_at", inboxSetAside = "inbox_set_aside"
    }
}
