import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOTLS

/// Bounds the connections that have not finished their TLS handshake (issue 16): a bare TCP
/// connection costs a flooder nothing and held a file descriptor for the whole idle timeout, so
/// 1,100 of them made a legitimate box time out. Each unfinished handshake is counted per client
/// address and in all; past either limit the new connection is closed at once, and one still
/// unfinished after `timeout` is closed then. A finished handshake leaves the count: established
/// connections are the idle timeout's and the boxes' own business, not this guard's.
///
/// The per-address limit is what keeps one flooding address (a compromised PC on a commune's
/// network, a scanner) from taking the slots every box needs; the total bounds many addresses.
final class PendingHandshakes: Sendable {
    let perAddress: Int
    let total: Int
    let timeout: TimeAmount
    let logger: Logger
    private let state = NIOLockedValueBox(State())

    struct State {
        var byAddress: [String: Int] = [:]
        var count = 0
        // One line per ten seconds at most: a flood must not become a flood of log lines.
        var refusals = LogThrottle(interval: .seconds(10))
    }

    init(perAddress: Int, total: Int, timeout: TimeAmount, logger: Logger) {
        (self.perAddress, self.total, self.timeout, self.logger) = (perAddress, total, timeout, logger)
    }

    /// Counts one more unfinished handshake from `address`, or says no.
    func enter(_ address: String) -> Bool {
        let (admitted, report) = state.withLockedValue { state -> (Bool, Int?) in
            if state.count < total, state.byAddress[address, default: 0] < perAddress {
                state.count += 1
                state.byAddress[address, default: 0] += 1
                return (true, nil)
            }
            return (false, state.refusals.admit(now: .now()))
        }
        if let report {
            logger.warning("connections refused before their TLS handshake: too many unfinished handshakes", metadata: [
                "refused": "\(report)", "last_peer": "\(address)", "per_address": "\(perAddress)", "total": "\(total)",
            ])
        }
        return admitted
    }

    func leave(_ address: String) {
        state.withLockedValue { state in
            state.count -= 1
            let left = state.byAddress[address, default: 1] - 1
            state.byAddress[address] = left > 0 ? left : nil
        }
    }

    var count: Int { state.withLockedValue { $0.count } }

    /// One per connection (a channel handler keeps per-connection state).
    func handler() -> HandshakeGuard { HandshakeGuard(pending: self) }
}

/// The per-connection side of `PendingHandshakes`: counted from the connection's start until the
/// TLS handshake completes, the connection closes, or `timeout` (which closes it).
final class HandshakeGuard: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    let pending: PendingHandshakes
    // Touched on the channel's event loop only.
    private var address: String?
    private var timer: Scheduled<Void>?

    init(pending: PendingHandshakes) { self.pending = pending }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func start(_ context: ChannelHandlerContext) {
        guard address == nil else { return }
        let peer = context.remoteAddress?.ipAddress ?? "?"
        guard pending.enter(peer) else {
            context.close(promise: nil)
            return
        }
        address = peer
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: pending.timeout) { channel.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { finish() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { finish() }

    private func finish() {
        timer?.cancel()
        timer = nil
        if let address { pending.leave(address) }
        address = nil
    }
}
