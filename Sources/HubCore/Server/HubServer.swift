import DocumentModel
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL

/// hubd's routes (docs/protocol.md) and the mTLS server that carries them. The routes live in
/// files of their own: package intake, tus uploads, the boxes' inboxes, the office API.
package struct HubServer: Sendable {
    let configuration: HubConfiguration
    let store: HubStore
    let receipts: ReceiptSigner
    let signals = QueueSignals()
    let activeUploads = ActiveUploads()
    let bodiesInFlight = BodiesInFlight()
    let logger: Logger
    /// Uploads refused by a box's quota, logged on one line per ten seconds at most.
    let quotaRefusals: RefusalLog
    let forwarded: ForwardedIdentity
    /// The CRL of `server.crl_file`, if configured (RevocationGuard, IdentityMiddleware).
    let revocations: Revocations?
    /// The hub's issuing CA for box certificates (`[ca]`), if configured (EnrolmentRoutes).
    let issuer: BoxCertificateIssuer?
    /// Refused enrolments, on one line per ten seconds at most (a prober trying tokens).
    let enrolmentRefusals: RefusalLog
    static let officeQueue = "office"

    package init(configuration: HubConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        quotaRefusals = RefusalLog("uploads refused: a box holds too many unfinished uploads", logger: logger)
        store = try HubStore(dataDirectory: configuration.dataDirectory, handoffDirectory: configuration.resolvedHandoffDirectory,
                             agencies: configuration.agencies, logger: logger)
        receipts = try ReceiptSigner(keyFile: configuration.receiptKey ?? configuration.key,
                                     chainFile: configuration.receiptCertificate ?? configuration.certificate,
                                     hubCode: configuration.hubCode, hubName: configuration.hubName)
        forwarded = try ForwardedIdentity(proxyCodes: configuration.proxyCodes, clientCAFile: configuration.clientCA)
        revocations = try configuration.crlFile.map { try Revocations(path: $0, clientCAFile: configuration.clientCA, logger: logger) }
        issuer = configuration.caCertificate == nil ? nil : try BoxCertificateIssuer(configuration: configuration)
        enrolmentRefusals = RefusalLog("enrolment refused", logger: logger)
    }

    /// TLS 1.2 at least, with ECDHE and AEAD only (`TLSPolicy`); a client certificate is required and must chain to the configured CA
    /// (no host name check: clients are identified by their CN, not by where they connect from).
    /// `clientCertificates: false`: the enrolment listener's, which asks for none.
    package static func tlsConfiguration(_ configuration: HubConfiguration, clientCertificates: Bool = true) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(configuration.certificate).map { NIOSSLCertificateSource.certificate($0) }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: configuration.key, format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuites = TLSPolicy.tls12CipherSuites
        if clientCertificates {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .file(configuration.clientCA)
        } else {
            tls.certificateVerification = .none
        }
        // When the hub closes a connection (idle, or cut at shutdown) it waits this long for the
        // client's close_notify, not NIOSSL's 5 s: a box in the middle of a body never sends one,
        // and shutdown must not wait for it.
        tls.shutdownTimeout = .seconds(1)
        return tls
    }

    /// The application `hubd serve` runs; tests build the same.
    package func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let logger = self.logger
        let revocations = self.revocations
        // Unfinished TLS handshakes bounded per address and in all, and timed out (HandshakeGuard).
        let pending = PendingHandshakes(perAddress: configuration.maxPendingHandshakesPerAddress, total: configuration.maxPendingHandshakes,
                                        timeout: .seconds(Int64(configuration.handshakeTimeoutSeconds)), logger: logger)
        // Then the first request head, within the header timeout (HeaderTimeout).
        let headerTimeout = configuration.headerTimeoutSeconds
        return Application(
            router: router(),
            server: try .tls(.http1(configuration: .init(additionalChannelHandlers: [pending.handler(), TLSRefusalLogger(logger: logger)]
                                                             + (revocations.map { [RevocationGuard(revocations: $0)] } ?? [])
                                                             + [HeaderTimeout(timeout: .seconds(Int64(headerTimeout)))],
                                                         idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
                             tlsConfiguration: Self.tlsConfiguration(configuration)),
            configuration: .init(address: .hostname(configuration.listenHost, port: configuration.listenPort), serverName: "hubd"),
            services: [UploadExpiry(store: store, expiry: .seconds(Int64(configuration.uploadExpiryHours) * 3600), logger: logger)],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("hubd listening", metadata: ["port": "\(port)"])
                await onRunning(port)
            },
            logger: logger)
    }

    func router() -> Router<HubRequestContext> {
        let router = Router(context: HubRequestContext.self)
        router.middlewares.add(HubErrorMiddleware(logger: logger))
        router.middlewares.add(IdentityMiddleware(store: store, officeCodes: Set(configuration.officeCodes), forwarded: forwarded,
                                                     revocations: revocations, logger: logger))
        router.get("/v1/directory") { _, _ in try json(["agencies": try store.directory()]) }
        addPackageRoutes(to: router)
        addUploadRoutes(to: router)
        addInboxRoutes(to: router)
        addOfficeRoutes(to: router)
        addRenewalRoutes(to: router)
        return router
    }

    // MARK: roles

    func box(_ context: HubRequestContext) throws(HubError) -> Role {
        guard let role = context.role, case .box = role else { throw HubError.forbiddenRoute() }
        return role
    }

    func office(_ context: HubRequestContext) throws(HubError) -> Role {
        guard let role = context.role, case .office = role else { throw HubError.forbiddenRoute() }
        return role
    }
}
