import NIOCore
import NIOTLS

/// Closes a connection whose first request head has not arrived `timeout` after its TLS handshake
/// finished (issue 16): the idle timeout alone lets a client that dribbles a request head a byte
/// at a time hold its connection for ever. The handler sits after the HTTP decoder, which passes
/// nothing on before a whole head, so the first read is the head; it then leaves the pipeline, and
/// the connection is the idle timeout's business (a body is the box's upload, however long).
/// Before the handshake the connection is `HandshakeGuard`'s.
final class HeaderTimeout: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    let timeout: TimeAmount
    // Touched on the channel's event loop only.
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, timer == nil {
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        timer?.cancel()
        timer = nil
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }
}
