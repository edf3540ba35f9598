import Foundation
import Synchronization

/// What `gatewayd status` and `GET /v1/status` show of the relay.
public struct RelayStatus: Sendable, Codable, Equatable {
    public struct Lane: Sendable, Codable, Equatable {
        public var lane: String
        public var name: String
        public var queued: Int
        public var sending: Int
    }

    /// `not_configured`, `unknown` (not tried yet), `up`, `down`.
    public var link: String
    public var hub: String?
    public var linkSince: Date?
    public var lastSuccessAt: Date?
    public var lastError: String?
    public var lastErrorAt: Date?
    public var lanes: [Lane]
    /// Decision 28/2018 warning: documents waiting longer than `upstream.max_queue_age`.
    public var warning: String?
    public var maximumQueueAgeSeconds: Int64
    public var inboxReceived: Int
    /// Since when the longest-waiting queued document has waited; nil when none waits.
    public var oldestQueuedAt: Date?

    enum CodingKeys: String, CodingKey {
        case link, hub, linkSince = "link_since", lastSuccessAt = "last_success_at", lastError = "last_error"
        case lastErrorAt = "last_error_at", lanes, warning, maximumQueueAgeSeconds = "max_queue_age_seconds", inboxReceived = "inbox_received"
        case oldestQueuedAt = "oldest_queued_at"
    }
}

/// The link's state as the relay's loops see it (in memory: after a restart it reads `unknown`
/// until the first exchange).
final class RelayLinkBoard: Sendable {
    struct State {
        var link = "unknown"
        var since: Date?
        var lastSuccessAt: Date?
        var lastError: String?
        var lastErrorAt: Date?
    }

    private let state = Mutex(State())

    /// Returns true when the link just came back (it was down).
    @discardableResult
    func succeeded(at now: Date = Date()) -> Bool {
        state.withLock { state in
            let cameBack = state.link != "up"
            if cameBack { (state.link, state.since) = ("up", now) }
            state.lastSuccessAt = now
            return cameBack
        }
    }

    func failed(_ error: RelayError, at now: Date = Date()) {
        state.withLock { state in
            // A refusal of one document says nothing about the link.
            if error.kind != .permanent, state.link != "down" { (state.link, state.since) = ("down", now) }
            state.lastError = error.description
            state.lastErrorAt = now
        }
    }

    var snapshot: State { state.withLock { $0 } }
}
