import DocumentModel
import Foundation

/// When the box asks for its next certificate: at 2/3 of the current one's lifetime, moved by up
/// to ±5 % of the lifetime at random so that the boxes of a province enrolled the same afternoon
/// (`enroll-token create --from communes.csv`) do not all come back the same minute; after a
/// failure, again after the relay's backoff (doubling, full jitter), never later than a tenth of
/// the time left, so that a box keeps trying more often as its expiry comes.
package struct RenewalSchedule: Sendable, Equatable {
    package var backoff: RetrySchedule
    /// The jitter's half-width as a fraction of the lifetime.
    package var jitter: Double = 0.05

    package init(backoff: RetrySchedule = RetrySchedule(base: .seconds(30), cap: .seconds(3600)), jitter: Double = 0.05) {
        (self.backoff, self.jitter) = (backoff, jitter)
    }

    /// The first attempt for a certificate valid from `notBefore` to `notAfter`; `unit` in [0, 1).
    package func renewalTime(notBefore: Date, notAfter: Date, unit: Double) -> Date {
        let lifetime = notAfter.timeIntervalSince(notBefore)
        let offset = lifetime * (2.0 / 3.0 + jitter * (2 * min(max(unit, 0), 1) - 1))
        return notBefore.addingTimeInterval(offset)
    }

    /// The attempt after `failures` failures in a row (1 after the first), at `now`.
    package func retryTime(failures: Int, now: Date, notAfter: Date, unit: Double) -> Date {
        let delay = backoff.delay(failures: failures, retryAfter: nil, unit: unit)
        var seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        let left = notAfter.timeIntervalSince(now)
        if left > 0 { seconds = min(seconds, max(1, left / 10)) }
        return now.addingTimeInterval(max(1, seconds))
    }

    /// Past this point the renewal is late (the latest a first attempt falls, plus a little):
    /// `gatewayd status` and the metrics warn from here, and at once after a failure.
    package func warningTime(notBefore: Date, notAfter: Date) -> Date {
        let lifetime = notAfter.timeIntervalSince(notBefore)
        return notBefore.addingTimeInterval(lifetime * (2.0 / 3.0 + jitter + 0.05))
    }
}
