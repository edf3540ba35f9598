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
    private let state = NIOLockedValueBox((refused: 0, lastLine: NIODeadline.distantPast))

    init(_ message: Logger.Message, logger: Logger, interval: TimeAmount = .seconds(10)) {
        (self.message, self.logger, self.interval) = (message, logger, interval)
    }

    /// Counts one refusal; writes the line (with `refused`: the count) when the interval allows.
    /// `metadata` describes this refusal, the last one the line reports.
    func refused(_ metadata: @autoclosure () -> Logger.Metadata) {
        let report = state.withLockedValue { state -> Int? in
            state.refused += 1
            let now = NIODeadline.now()
            guard now - state.lastLine >= interval else { return nil }
            defer { state = (0, now) }
            return state.refused
        }
        guard let report else { return }
        logger.warning(message, metadata: metadata().merging(["refused": "\(report)"]) { $1 })
    }
}
