import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Refusals written to the log on one line per `interval` at most, with how many there were
/// since the last line (issue 16): a flood, or a box looping on a refusal, must not become a
/// flood of log lines. One per kind of refusal (handshakes, upload quotas).
final class RefusalLog: Sendable {
    let message: Logger.Message
    let logger: Logger
    let interval: TimeAmount
    private let throttle: NIOLockedValueBox<LogThrottle>

    init(_ message: Logger.Message, logger: Logger, interval: TimeAmount = .seconds(10)) {
        (self.message, self.logger, self.interval) = (message, logger, interval)
        throttle = NIOLockedValueBox(LogThrottle(interval: interval))
    }

    /// Counts one refusal; writes the line (with `refused`: the count) when the interval allows.
    /// `metadata` describes this refusal, the last one the line reports.
    func refused(_ metadata: @autoclosure () -> Logger.Metadata) {
        let report = throttle.withLockedValue { $0.admit(now: .now()) }
        guard let report else { return }
        logger.warning(message, metadata: metadata().merging(["refused": "\(report)"]) { $1 })
    }
}
