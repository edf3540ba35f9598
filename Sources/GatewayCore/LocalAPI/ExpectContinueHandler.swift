import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` (RFC 9110 §10.1.1) with `100 Continue` so clients send the body
/// at once. Hummingbird does not, and curl adds the header to every body over 1 MB and then waits
/// a second before sending anyway: a second lost on every large submission.
///
/// Always continuing is right here: the daemon reads every body (it streams to disk and refuses
/// afterwards with a JSON reason), and a refusal known from the headers alone is still answered
/// after the body is drained, so the client reads our reason instead of a reset connection.
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(var request) = unwrapInboundIn(data),
           let expect = request.headerFields[.expect], expect.lowercased() == "100-continue" {
            request.headerFields[.expect] = nil
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            context.fireChannelRead(wrapInboundOut(.head(request)))
            return
        }
        context.fireChannelRead(data)
    }
}
