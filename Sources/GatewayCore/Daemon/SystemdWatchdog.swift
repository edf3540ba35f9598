import Foundation
import Logging
import ServiceLifecycle

/// systemd's watchdog (`WatchdogSec=` in gatewayd.service): every half interval the daemon says
/// it is alive — but only once a read of the store has answered, so a daemon whose store hangs (a
/// stuck flash disk, a lock never released) stops pinging and systemd restarts it instead of
/// keeping a box that takes nothing in. Each ping carries a STATUS line with the queue, which
/// `systemctl status gatewayd` shows the technician. One read and one datagram per tick (30 s
/// with the unit's 60 s): nothing that keeps an idle box awake.
package struct SystemdWatchdog: Service {
    let interval: Duration
    /// The status line; throws (or never returns) when the store does not answer.
    let probe: @Sendable () throws -> String
    let send: @Sendable (String) -> Bool
    let logger: Logger

    package init(interval: Duration, probe: @escaping @Sendable () throws -> String,
                 send: @escaping @Sendable (String) -> Bool = { SystemdNotify.send($0) }, logger: Logger) {
        (self.interval, self.probe, self.send, self.logger) = (interval, probe, send, logger)
    }

    /// Half of `WATCHDOG_USEC` (systemd's advice), or nil when systemd asked for no watchdog or
    /// asked it of another process (`WATCHDOG_PID`).
    package static func interval(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 pid: Int32 = getpid()) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], Int32(owner) != pid { return nil }
        return .microseconds(microseconds / 2)
    }

    /// The queue in one line, Vietnamese then English: what waits for people, what waits for the
    /// hub, what was set aside.
    package static func statusLine(_ counts: [DocumentState: Int]) -> String {
        let count = { (states: [DocumentState]) in states.reduce(0) { $0 + (counts[$1] ?? 0) } }
        let (leader, seal, send, sending) = (count([.awaitingLeader]), count([.awaitingSeal]), count([.signed, .queued]), count([.sending]))
        let aside = count([.rejected, .quarantined])
        return "chờ ký \(leader) · chờ đóng dấu \(seal) · chờ gửi \(send) · đang gửi \(sending) · bị từ chối/cách ly \(aside)"
            + " / awaiting signature \(leader) · awaiting seal \(seal) · to send \(send) · sending \(sending) · rejected/quarantined \(aside)"
    }

    package func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let status = try probe()
                    _ = send("WATCHDOG=1\nSTATUS=\(status)")
                } catch {
                    // No ping: if the store stays silent, systemd restarts the daemon.
                    logger.error("watchdog: the store did not answer; no keep-alive sent", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
