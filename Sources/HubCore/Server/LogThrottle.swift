import NIOCore

/// At most one log line per `interval` for an event that repeats (a flood, a revoked box
/// retrying): the line says how many happened since the last one, so nothing is hidden and a
/// flood does not become a flood of log lines.
struct LogThrottle {
    let interval: TimeAmount
    private var sinceLastLine = 0
    private var lastLine: NIODeadline = .distantPast

    init(interval: TimeAmount) { self.interval = interval }

    /// Counts one event; the number of events the line now due reports, or nil to stay silent.
    mutating func admit(now: NIODeadline) -> Int? {
        sinceLastLine += 1
        guard now - lastLine >= interval else { return nil }
        defer { (sinceLastLine, lastLine) = (0, now) }
        return sinceLastLine
    }
}
