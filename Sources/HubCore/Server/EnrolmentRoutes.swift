import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import X509

/// Enrolment of boxes, an EST profile (RFC 7030; docs/protocol.md, "Enrolment"): `cacerts` and
/// `simpleenroll` on the enrolment listener, which asks for no client certificate (a box has
/// none yet) and serves nothing else; `cacerts` and `simplereenroll` on the main mTLS listener.
extension HubServer {
    static let estPath = "/.well-known/est"
    /// A CSR is a few hundred bytes; 16 KiB leaves room for RSA 4096 in base64 and nothing more.
    static let maxRequestBytes = 16 * 1024
    static let contentTransferEncoding = HTTPField.Name("Content-Transfer-Encoding")!

    /// The enrolment listener's application: the main one's guards (unfinished handshakes bounded,
    /// the request head within the header timeout, idle connections closed), TLS without client
    /// certificates. Nil without `[enrolment] listen`.
    package func enrolmentApplication(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> (some ApplicationProtocol)? {
        guard let host = configuration.enrolmentHost, let port = configuration.enrolmentPort, let issuer else { return nil as Application<RouterResponder<HubRequestContext>>? }
        let logger = self.logger
        // Its own budget of handshakes: a flood on the enrolment port must not take the boxes' slots.
        let pending = PendingHandshakes(perAddress: configuration.maxPendingHandshakesPerAddress, total: configuration.maxPendingHandshakes,
                                        timeout: .seconds(Int64(configuration.handshakeTimeoutSeconds)), logger: logger)
        let headerTimeout = configuration.headerTimeoutSeconds
        let router = Router(context: HubRequestContext.self)
        router.middlewares.add(HubErrorMiddleware(logger: logger))
        router.get(RouterPath(Self.estPath + "/cacerts")) { _, _ in try Self.estResponse(issuer.answer(issued: nil), certsOnly: false) }
        router.post(RouterPath(Self.estPath + "/simpleenroll")) { request, context in
            do {
                return try await enrol(request, context: context, issuer: issuer)
            } catch let error as HubError where error.code == .enrolmentRefused {
                var response = error.response
                response.headers[.wwwAuthenticate] = "Basic realm=\"hubd enrolment\""
                return response
            }
        }
        return Application(
            router: router,
            server: try .tls(.http1(configuration: .init(additionalChannelHandlers: [pending.handler(), TLSRefusalLogger(logger: logger),
                                                                                      HeaderTimeout(timeout: .seconds(Int64(headerTimeout)))],
                                                         idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
                             tlsConfiguration: Self.tlsConfiguration(configuration, clientCertificates: false)),
            configuration: .init(address: .hostname(host, port: port), serverName: "hubd"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("hubd enrolment listening", metadata: ["port": "\(port)"])
                await onRunning(port)
            },
            logger: logger)
    }

    /// `cacerts` and `simplereenroll` on the main listener (a box with a certificate).
    func addRenewalRoutes(to router: Router<HubRequestContext>) {
        router.get(RouterPath(Self.estPath + "/cacerts")) { [self] _, _ in
            guard let issuer else { throw HubError.notFound("CA của hub / the hub's CA") }
            return try Self.estResponse(issuer.answer(issued: nil), certsOnly: false)
        }
        router.post(RouterPath(Self.estPath + "/simplereenroll")) { [self] request, context in
            guard case .box(let agency) = try box(context), let current = context.certificate else { throw HubError.forbiddenRoute() }
            guard let issuer else { throw HubError.notFound("CA của hub / the hub's CA") }
            let previous = SerialNumberText.text(current.serialNumber)
            // The CRL is read again at most once a second; the hub's own list at once.
            guard try !RevocationRegistry.lists(previous, dataDirectory: configuration.dataDirectory) else {
                logger.warning("renewal refused: the certificate is revoked", metadata: ["agency": "\(agency)", "serial": "\(previous)"])
                throw HubError(.unknownClient, "Chứng thư số đã bị thu hồi", "The certificate is revoked")
            }
            let csr = try BoxCertificateIssuer.request(body: try await Self.estBody(request))
            // The subject the hub checks is the CN (it sets O itself); the key must be new, or
            // renewal would only lengthen the life of a key that may be known.
            try BoxCertificateIssuer.check(csr, isFor: agency)
            guard csr.publicKey != current.publicKey else {
                throw HubError(.badRequest, "CSR gia hạn phải có khóa mới", "A renewal CSR must carry a new key")
            }
            let certificate = try issuer.issue(csr, agency: agency, name: try agencyName(agency))
            try await store.enrolment.recordRenewal(
                BoxCertificateIssuer.record(certificate, request: csr, agency: agency, renewedFrom: previous))
            logger.info("box certificate renewed", metadata: [
                "agency": "\(agency)", "serial": "\(SerialNumberText.text(certificate.serialNumber))", "renewed_from": "\(previous)",
                "not_after": "\(HubTime.wire(certificate.notValidAfter))"])
            return try Self.estResponse(issuer.answer(issued: certificate), certsOnly: true)
        }
    }

    /// simpleenroll: the token first (401, one answer for every reason), then the request (400);
    /// the token is spent only with the certificate's record, in one transaction.
    func enrol(_ request: Request, context: HubRequestContext, issuer: BoxCertificateIssuer) async throws -> Response {
        let body = try await Self.estBody(request)
        let peer = context.channel.remoteAddress?.ipAddress ?? "?"
        let refused = HubError(.enrolmentRefused, "Mã đăng ký không dùng được", "The enrolment token is not valid")
        guard let (agency, token) = Self.basicCredentials(request.headers[.authorization]) else {
            enrolmentRefusals.refused(["reason": "no_credentials", "peer": "\(peer)"])
            throw refused
        }
        let tokenID: Int64
        switch try store.enrolment.open(agency: agency, token: token) {
        case .success(let id): tokenID = id
        case .failure(let reason):
            enrolmentRefusals.refused(["reason": "\(reason.rawValue)", "agency": "\(agency)", "peer": "\(peer)"])
            throw refused
        }
        let csr = try BoxCertificateIssuer.request(body: body)
        try BoxCertificateIssuer.check(csr, isFor: agency)
        let certificate = try issuer.issue(csr, agency: agency, name: try agencyName(agency))
        guard try store.enrolment.recordEnrolment(tokenID: tokenID, issued: BoxCertificateIssuer.record(certificate, request: csr, agency: agency)) else {
            // Spent by a request that came at the same time: this certificate is never sent.
            enrolmentRefusals.refused(["reason": "used", "agency": "\(agency)", "peer": "\(peer)"])
            throw refused
        }
        logger.info("box certificate issued", metadata: [
            "agency": "\(agency)", "serial": "\(SerialNumberText.text(certificate.serialNumber))", "token": "\(tokenID)",
            "not_after": "\(HubTime.wire(certificate.notValidAfter))", "peer": "\(peer)"])
        return try Self.estResponse(issuer.answer(issued: certificate), certsOnly: true)
    }

    func agencyName(_ code: String) throws -> String? {
        try store.directory().first { $0.code == code }?.name
    }

    /// The request body, 16 KiB at most (413 past it, before reading more).
    static func estBody(_ request: Request) async throws -> [UInt8] {
        let tooLarge = HubError(.tooLarge, "CSR quá lớn (tối đa 16 KiB)", "The CSR is too large (16 KiB at most)")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxRequestBytes { throw tooLarge }
        do {
            return Array(buffer: try await request.body.collect(upTo: maxRequestBytes))
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge
        }
    }

    /// HTTP Basic: the agency code and the token; nil when absent or not readable as such.
    static func basicCredentials(_ header: String?) -> (agency: String, token: EnrolmentToken)? {
        guard let header, header.count < 512, header.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":"),
              let token = EnrolmentToken(text: String(text[text.index(after: colon)...])) else { return nil }
        return (String(text[..<colon]), token)
    }

    static func estResponse(_ body: [UInt8], certsOnly: Bool) -> Response {
        Response(status: .ok, headers: [
            .contentType: certsOnly ? "application/pkcs7-mime; smime-type=certs-only" : "application/pkcs7-mime",
            contentTransferEncoding: "base64",
        ], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
