import Foundation

/// The relay's decisions, apart from its I/O: what to do after an attempt failed, and what the
/// link's state becomes after an exchange. Time and chance are arguments, so tests give a fixed
/// clock and a fixed draw and need no sleep.

/// How a failed exchange is classed for the retry rule (docs/protocol.md "Errors").
package enum RelayFailureKind: String, Sendable {
    /// The hub refused for good (4xx): the document is rejected, not retried.
    case permanent
    /// Try again later (5xx, 408, 429, a broken link, a time-out).
    case transient
    /// The hub's identity or receipt could not be trusted (TLS, pin, receipt check): a
    /// technician must look; retried with backoff so the box recovers once it is fixed.
    case untrusted
}

/// What to do after an attempt failed.
package enum RetryDecision: Sendable, Equatable {
    /// Give up on this item: the hub refused it for good.
    case reject
    /// Try again once `at` has passed; `failures` counts the attempts failed in a row.
    case retry(failures: Int, after: Duration, at: Date)
}

/// The one backoff rule of the relay, for documents, arrival statuses, clerks' statuses and the
/// inbox poll alike.
package struct RetryRule: Sendable, Equatable {
    package var schedule: RetrySchedule

    package init(schedule: RetrySchedule) { self.schedule = schedule }

    /// `failuresBefore`: attempts that had failed in a row before this one. `unit`: a draw in
    /// [0, 1) for the jitter.
    package func attemptFailed(_ kind: RelayFailureKind, retryAfter: Duration?, failuresBefore: Int, now: Date,
                              unit: Double) -> RetryDecision {
        if kind == .permanent { return .reject }
        return backoff(retryAfter: retryAfter, failuresBefore: failuresBefore, now: now, unit: unit)
    }

    /// The wait after a failure that is retried whatever its kind (the inbox's poll: a refusal
    /// there is about the box, not one document, and is tried again too).
    package func backoff(retryAfter: Duration?, failuresBefore: Int, now: Date, unit: Double) -> RetryDecision {
        let failures = failuresBefore + 1
        let delay = schedule.delay(failures: failures, retryAfter: retryAfter, unit: unit)
        return .retry(failures: failures, after: delay, at: now.addingTimeInterval(QueueAgeRule.seconds(delay)))
    }
}

/// The link to the hub as the relay sees it.
package enum RelayLink: String, Sendable, Codable, CaseIterable {
    /// Not tried since the daemon started.
    case unknown
    case up
    case down
}

/// The link's state, changed by each exchange's outcome (in memory: after a restart it reads
/// `unknown` until the first exchange).
package struct RelayLinkState: Sendable, Equatable {
    package var link: RelayLink = .unknown
    package var since: Date?
    package var lastSuccessAt: Date?
    package var lastError: String?
    package var lastErrorAt: Date?

    package init() {}

    /// Returns true when the link just came back (it was not up): the caller then clears the
    /// retry times, so what waits out a backoff goes at once.
    package mutating func succeeded(at now: Date) -> Bool {
        let cameBack = link != .up
        if cameBack { (link, since) = (.up, now) }
        lastSuccessAt = now
        return cameBack
    }

    package mutating func failed(_ kind: RelayFailureKind, description: String, at now: Date) {
        // A refusal of one document says nothing about the link.
        if kind != .permanent, link != .down { (link, since) = (.down, now) }
        lastError = description
        lastErrorAt = now
    }
}
