import NIOCore
import NIOSSL
import NIOTLS
import X509

/// Closes a connection whose client certificate the CRL revokes, as soon as its TLS handshake
/// completes and before any request on it is read (issue 17). BoringSSL has already verified the
/// chain; this only adds the CRL, so the verification that hubd has always done stays BoringSSL's
/// (a NIOSSL custom verification callback would replace it entirely). With TLS 1.3 the box sees
/// the refusal at its first read either way, as it would a refused certificate.
final class RevocationGuard: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    let revocations: Revocations
    // Touched on the channel's event loop only.
    private var refused = false

    init(revocations: Revocations) { self.revocations = revocations }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, let certificate = peerCertificate(context),
           let date = revocations.revocationDate(of: certificate) {
            refused = true
            revocations.logRefusal(of: certificate, revokedAt: date, peer: context.remoteAddress?.description ?? "?")
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Nothing the refused connection sent reaches the routes, even bytes already decrypted
    /// behind the handshake's last message.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        context.fireChannelRead(data)
    }

    private func peerCertificate(_ context: ChannelHandlerContext) -> Certificate? {
        guard let peer = try? context.pipeline.syncOperations.nioSSL_peerCertificate(),
              let der = try? peer.toDERBytes() else { return nil }
        return try? Certificate(derEncoded: der)
    }
}
