import Logging
import NIOCore
import NIOSSL

/// Writes a refused TLS handshake in the log (wrong CA, expired certificate, no certificate):
/// the box only sees an alert, so the hub's technician needs the reason and the address here.
final class TLSRefusalLogger: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case NIOSSLError.handshakeFailed(let reason) = error {
            logger.warning("TLS handshake refused / bắt tay TLS bị từ chối", metadata: [
                "peer": "\(context.remoteAddress?.description ?? "?")", "reason": "\(reason)",
            ])
        }
        context.fireErrorCaught(error)
    }
}
