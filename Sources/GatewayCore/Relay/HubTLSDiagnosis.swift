import DocumentModel
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SwiftASN1
import TimeJSON
import X509

/// Says *why* a TLS handshake with the hub failed, in words a technician can act on.
///
/// AsyncHTTPClient reports every refused hub certificate the same way (BoringSSL's
/// CERTIFICATE_VERIFY_FAILED): expired, issued by another CA and issued for another name all read
/// alike. After such a failure the relay makes one more handshake, for diagnosis only, that
/// accepts whatever the hub presents, keeps the chain, and closes at once — nothing is sent over
/// it, so accepting is harmless. The chain is then judged here (pure: `judge`) against the
/// configured CA, the host name of `upstream.url` and the clock. When it is the hub that refused
/// us (our certificate), the TLS alert it sent is named instead.
package enum HubTLSDiagnosis {
    package struct Finding: Sendable, Equatable {
        package let code: String
        package let vi: String
        package let en: String
    }

    /// The handshake, then `judge`. Nil when the diagnosis itself could not connect (then the
    /// original error stands).
    package static func diagnose(settings: RelayClient.Settings, now: Date = Date()) async -> Finding? {
        guard let url = URL(string: settings.baseURL), let host = url.host else { return nil }
        let port = url.port ?? 443
        let chain: [Certificate]
        do {
            chain = try await peerChain(host: host, port: port, settings: settings)
        } catch {
            return refusalOfOurCertificate(error, settings: settings)
        }
        let anchors: [Certificate]
        do {
            let pem = try String(contentsOfFile: settings.caFile, encoding: .utf8)
            anchors = try PEMDocument.parseMultiple(pemString: pem).map { try Certificate(pemDocument: $0) }
        } catch {
            return Finding(code: "hub_ca", vi: "Không đọc được CA của cấp trên \(settings.caFile): \(error)",
                           en: "Cannot read the hub CA file \(settings.caFile): \(error)")
        }
        return judge(chain: chain, anchors: anchors, host: host, now: now)
    }

    /// The hub ended the handshake with an alert about *our* certificate: which one. With TLS 1.3
    /// the alert comes after our side of the handshake completed, on the first exchange, so
    /// `gatewayd doctor` asks this of its request's error too.
    package static func refusalOfOurCertificate(_ error: any Error, settings: RelayClient.Settings) -> Finding? {
        let text = String(describing: error)
        for (alert, vi, en) in [("CERTIFICATE_EXPIRED", "đã hết hạn", "has expired"),
                                ("UNKNOWN_CA", "do CA mà cấp trên không tin cấp", "is from a CA the hub does not trust"),
                                ("CERTIFICATE_REVOKED", "đã bị thu hồi", "has been revoked"),
                                ("BAD_CERTIFICATE", "bị từ chối", "was refused"),
                                ("CERTIFICATE_REQUIRED", "không được gửi", "was not sent"),
                                ("HANDSHAKE_FAILURE", "bị từ chối", "was refused")] where text.contains(alert) {
            return Finding(code: "box_certificate_refused",
                           vi: "Cấp trên từ chối chứng thư số của hộp: chứng thư \(vi) (\(settings.certificateFile))",
                           en: "The hub refused the box's certificate: it \(en) (\(settings.certificateFile))")
        }
        return nil
    }

    /// What is wrong with the chain the hub presented, first problem first: the leaf's dates,
    /// its names, then whether it chains to one of `anchors`. Nil when nothing is found wrong.
    package static func judge(chain: [Certificate], anchors: [Certificate], host: String, now: Date) -> Finding? {
        guard let leaf = chain.first else {
            return Finding(code: "hub_certificate_missing", vi: "Cấp trên không gửi chứng thư số", en: "The hub sent no certificate")
        }
        let subject = "\(leaf.subject)"
        if now > leaf.notValidAfter {
            return Finding(code: "hub_certificate_expired",
                           vi: "Chứng thư số của cấp trên (\(subject)) đã hết hạn lúc \(GatewayJSON.format(leaf.notValidAfter))",
                           en: "The hub's certificate (\(subject)) expired at \(GatewayJSON.format(leaf.notValidAfter))")
        }
        if now < leaf.notValidBefore {
            return Finding(code: "hub_certificate_not_yet_valid",
                           vi: "Chứng thư số của cấp trên chỉ có hiệu lực từ \(GatewayJSON.format(leaf.notValidBefore)) (đồng hồ của hộp có đúng không?)",
                           en: "The hub's certificate is valid only from \(GatewayJSON.format(leaf.notValidBefore)) (is the box's clock right?)")
        }
        let names = subjectAlternativeNames(leaf)
        if !names.contains(where: { matches(name: $0, host: host) }) {
            let shown = names.isEmpty ? "(không có tên / no names)" : names.joined(separator: ", ")
            return Finding(code: "hub_certificate_name",
                           vi: "Chứng thư số của cấp trên cấp cho \(shown), không phải cho \(host) (địa chỉ trong [upstream] url)",
                           en: "The hub's certificate is for \(shown), not for \(host) (the host of [upstream] url)")
        }
        // Chains to an anchor: some certificate of the chain is issued by an anchor, and each link
        // below it is issued by the next one up.
        var current = leaf
        var rest = Array(chain.dropFirst())
        while true {
            if anchors.contains(where: { $0.subject == current.issuer && $0.publicKey.isValidSignature(current.signature, for: current) }) {
                return nil
            }
            guard let index = rest.firstIndex(where: { $0.subject == current.issuer && $0.publicKey.isValidSignature(current.signature, for: current) }) else {
                return Finding(code: "hub_certificate_untrusted",
                               vi: "Chứng thư số của cấp trên (\(subject), do \(current.issuer) cấp) không do CA đã cấu hình cấp (\(anchors.map { "\($0.subject)" }.joined(separator: "; ")))",
                               en: "The hub's certificate (\(subject), issued by \(current.issuer)) is not from the configured CA (\(anchors.map { "\($0.subject)" }.joined(separator: "; ")))")
            }
            current = rest.remove(at: index)
        }
    }

    static func subjectAlternativeNames(_ certificate: Certificate) -> [String] {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { name in
            switch name {
            case .dnsName(let dns): return dns
            case .ipAddress(let bytes):
                let octets = Array(bytes.bytes)
                if octets.count == 4 { return octets.map(String.init).joined(separator: ".") }
                if octets.count == 16 {
                    return stride(from: 0, to: 16, by: 2).map { String(UInt16(octets[$0]) << 8 | UInt16(octets[$0 + 1]), radix: 16) }.joined(separator: ":")
                }
                return nil
            default: return nil
            }
        }
    }

    /// RFC 6125 in its simple form: exact (case-insensitive), or `*.` matching one left-most label.
    static func matches(name: String, host: String) -> Bool {
        let name = name.lowercased(), host = host.lowercased()
        if name == host { return true }
        if name.hasPrefix("*."), let dot = host.firstIndex(of: ".") {
            return host[host.index(after: dot)...] == name.dropFirst(2) && !host[..<dot].isEmpty
        }
        return false
    }

    /// One handshake that accepts any hub certificate and keeps the chain it sent.
    static func peerChain(host: String, port: Int, settings: RelayClient.Settings) async throws -> [Certificate] {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuites = TLSPolicy.tls12CipherSuites  // what the relay itself offers
        // The callback below replaces the chain check; the name is judged by `judge`, not here.
        tls.certificateVerification = .noHostnameVerification
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(settings.certificateFile).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: settings.keyFile, format: .pem))
        let context = try NIOSSLContext(configuration: tls)
        let seen = NIOLockedValueBox<[NIOSSLCertificate]>([])
        let group = MultiThreadedEventLoopGroup.singleton
        let handshake = group.next().makePromise(of: Void.self)
        let connecting = ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let isAddress = host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" }
                    let ssl = try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host) { certificates, promise in
                        seen.withLockedValue { $0 = certificates }
                        promise.succeed(.certificateVerified)  // diagnosis only: nothing is sent on this connection
                    }
                    try channel.pipeline.syncOperations.addHandler(ssl)
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(promise: handshake))
                }
            }
            .connect(host: host, port: port)
        let channel: Channel
        do { channel = try await connecting.get() } catch {
            // Nothing will complete the handshake's promise now (no channel, no handler): it must
            // not be dropped pending — NIO traps on a leaked promise. The hub is down or restarting
            // (seen when hubd was killed mid-handshake): no diagnosis, the plain error stands.
            handshake.fail(error)
            throw error
        }
        defer { channel.close(promise: nil) }
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(8)) { handshake.fail(ChannelError.connectTimeout(.seconds(8))) }
        defer { timeout.cancel() }
        try await handshake.futureResult.get()
        return try seen.withLockedValue { try $0.map { try Certificate(derEncoded: try $0.toDERBytes()) } }
    }

    /// Completes the promise when the TLS handshake is done, or with the error that ended it.
    final class HandshakeWatcher: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = NIOAny
        let promise: EventLoopPromise<Void>
        init(promise: EventLoopPromise<Void>) { self.promise = promise }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event { promise.succeed(()) }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(ChannelError.eof)
            context.fireChannelInactive()
        }
    }
}
