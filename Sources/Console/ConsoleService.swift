// The console as one of gatewayd's services: its CA and certificate prepared, the setup code
// made while no quản trị exists, the HTTPS listener run.
import Foundation
import GatewayCore
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle
import Synchronization

package enum ConsoleDoor {
    /// What `gatewayd serve` adds to its service group: nothing when `[console] enabled = false`,
    /// nor when its certificates cannot be made (a full disk): the box goes on taking documents
    /// in and sending them without its console.
    package static func services(configuration: GatewayConfiguration, store: DocumentStore, relay: RelayService?, signing: SigningStage? = nil,
                                 tokens: (any TokenStatusSource)?, logger: Logger) -> [any Service] {
        guard configuration.console.enabled, let address = TCPAddress(configuration.console.listen) else {
            logger.notice("console disabled ([console] enabled = false)")
            return []
        }
        do {
            return [try make(configuration: configuration, address: address, store: store, relay: relay, signing: signing, tokens: tokens,
                             logger: logger)]
        } catch {
            logger.critical("console not started: \(error)")
            return []
        }
    }

    static func make(configuration: GatewayConfiguration, address: TCPAddress, store: DocumentStore, relay: RelayService?, signing: SigningStage?,
                     tokens: (any TokenStatusSource)?, logger: Logger) throws -> ConsoleService {
        let layout = configuration.layout
        let certificate = try ServerCertificate(ca: BoxCA(layout: layout), listenHost: address.host, logger: logger)
        let accounts = store.accounts
        let setupCode = SetupCode(layout: layout)
        if try accounts.administratorExists() {
            setupCode.consume()  // an administrator made from the command line leaves none to use
        } else {
            // The code itself is never logged (a log is read by more people than the data
            // directory's 0600 file); the technician reads it with `gatewayd status`.
            let (_, new) = try setupCode.ensure()
            logger.notice("console waiting for its first administrator: the setup code is shown by `gatewayd status`",
                          metadata: ["new_code": "\(new)"])
        }
        var hub: (@Sendable () -> RelayStatus)?
        if let relay { hub = { relay.status() } }
        let server = ConsoleServer(accounts: accounts, rules: AccountRules(configuration), setupCode: setupCode, ca: certificate.ca,
                                   counts: { try store.countsByState() }, hub: hub, tokens: tokens,
                                   signing: SigningDesk(store: store, stage: signing),
                                   documents: ConsoleDocuments(store: store, intake: DocumentIntake(configuration: configuration, store: store),
                                                               relay: relay, inboxFolder: relay?.settings.inboxFolder),
                                   watch: OverviewWatch(store: store, configuration: configuration, logger: logger), logger: logger)
        return ConsoleService(server: server, host: address.host, port: address.port, certificate: certificate, logger: logger)
    }
}

/// The server certificate the listener presents, checked again every hour: an office box's
/// address comes from DHCP and may change while it runs, and the certificate must follow without
/// a restart. Each handshake takes the current one (NIOSSL's context callback).
final class ServerCertificate: Sendable {
    let ca: BoxCA
    let listenHost: String
    let logger: Logger
    private let current: Mutex<NIOSSLContextConfigurationOverride>

    init(ca: BoxCA, listenHost: String, logger: Logger) throws {
        (self.ca, self.listenHost, self.logger) = (ca, listenHost, logger)
        current = Mutex(.noChanges)
        try refresh(now: Date())
    }

    /// The names now: this machine's, and the listener's own address when it is a specific one.
    var names: ServerNames {
        let names = ServerNames.ofThisMachine()
        guard let ip = IPAddressBytes.parse(listenHost) else { return names }
        return ServerNames(dnsNames: names.dnsNames, ipAddresses: names.ipAddresses + [ip])
    }

    /// Re-issues the certificate when the names changed or it nears its end, and serves it from
    /// the next handshake on.
    func refresh(now: Date) throws {
        let made = try ca.prepare(names: names, now: now)
        if !made.isEmpty {
            logger.notice("console certificates made", metadata: ["made": "\(made.joined(separator: ","))", "ca": "\(ca.caCertificatePath)"])
        }
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = try NIOSSLCertificate.fromPEMFile(ca.serverCertificatePath).map { .certificate($0) }
        override.privateKey = .privateKey(try NIOSSLPrivateKey(file: ca.serverKeyPath, format: .pem))
        current.withLock { $0 = override }
    }

    var tlsConfiguration: TLSConfiguration {
        get throws {
            // The files as they are now; each handshake then takes the current pair (below).
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(ca.serverCertificatePath).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: ca.serverKeyPath, format: .pem)))
            tls.minimumTLSVersion = .tlsv12
            // A browser that left without close_notify must not hold up the daemon's stop.
            tls.shutdownTimeout = .seconds(1)
            tls.sslContextCallback = { [self] _, promise in promise.succeed(self.current.withLock { $0 }) }
            return tls
        }
    }
}

/// The HTTPS listener, and the hourly check of its certificate. A listener that cannot start
/// (the port taken) is logged and the daemon goes on without its console: documents still come
/// in and go out.
struct ConsoleService: Service {
    static let certificateCheckInterval: Duration = .seconds(3600)

    let server: ConsoleServer
    let host: String
    let port: Int
    let certificate: ServerCertificate
    let logger: Logger

    /// Connections served at once: office PCs and phones open a few each.
    static let maximumConnections = 256

    func run() async throws {
        let logger = logger
        do {
            let application = Application(
                router: server.router(),
                server: try .tls(.http1(configuration: .init(idleTimeout: .seconds(60))), tlsConfiguration: certificate.tlsConfiguration),
                // Bounded as the local API (issue 16): past the cap connections wait in the backlog.
                configuration: .init(address: .hostname(host, port: port), serverName: "gatewayd",
                                     availableConnectionsDelegate: .maximum(Self.maximumConnections, logger: logger)),
                onServerRunning: { channel in
                    logger.notice("console listening", metadata: ["address": "\(host):\(channel.localAddress?.port ?? port)"])
                },
                logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await application.run() }
                group.addTask { [certificate] in
                    while true {
                        try await Task.sleep(for: Self.certificateCheckInterval)
                        do { try certificate.refresh(now: Date()) } catch {
                            logger.error("console certificate not renewed: \(error)")
                        }
                    }
                }
                // The listener ends at shutdown (or fails to start): the check ends with it.
                try await group.next()
                group.cancelAll()
            }
        } catch where !Task.isCancelled {
            logger.critical("console not started: \(error)", metadata: ["address": "\(host):\(port)"])
            try? await gracefulShutdown()
        }
    }
}

/// An IP address in the form a certificate names it (4 or 16 bytes); nil for a host name.
enum IPAddressBytes {
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return text == "0.0.0.0" ? nil : withUnsafeBytes(of: v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            return bytes.allSatisfy { $0 == 0 } ? nil : bytes
        }
        return nil
    }
}
