// The console as one of gatewayd's services: its CA and certificate prepared, the setup code
// made while no quản trị exists, the HTTPS listener run.
import Foundation
import GatewayCore
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle

package enum ConsoleDoor {
    /// What `gatewayd serve` adds to its service group: nothing when `[console] enabled = false`,
    /// nor when its certificates cannot be made (a full disk): the box goes on taking documents
    /// in and sending them without its console.
    package static func services(configuration: GatewayConfiguration, store: DocumentStore, tokens: (any TokenStatusSource)?,
                                 logger: Logger) -> [any Service] {
        guard configuration.console.enabled, let address = TCPAddress(configuration.console.listen) else {
            logger.notice("console disabled ([console] enabled = false)")
            return []
        }
        do {
            return [try make(configuration: configuration, address: address, store: store, tokens: tokens, logger: logger)]
        } catch {
            logger.critical("console not started: \(error)")
            return []
        }
    }

    static func make(configuration: GatewayConfiguration, address: TCPAddress, store: DocumentStore, tokens: (any TokenStatusSource)?,
                     logger: Logger) throws -> ConsoleService {
        let layout = configuration.layout
        let ca = BoxCA(layout: layout)
        var names = ServerNames.ofThisMachine()
        if let ip = IPAddressBytes.parse(address.host) { names = ServerNames(dnsNames: names.dnsNames, ipAddresses: names.ipAddresses + [ip]) }
        let made = try ca.prepare(names: names, now: Date())
        if !made.isEmpty {
            logger.notice("console certificates made", metadata: ["made": "\(made.joined(separator: ","))", "ca": "\(ca.caCertificatePath)"])
        }
        let accounts = store.accounts
        let setupCode = SetupCode(layout: layout)
        if try !accounts.administratorExists() {
            // The code itself is never logged (a log is read by more people than the data
            // directory's 0600 file); the technician reads it with `gatewayd status`.
            let (_, new) = try setupCode.ensure()
            logger.notice("console waiting for its first administrator: the setup code is shown by `gatewayd status`",
                          metadata: ["new_code": "\(new)"])
        }
        let server = ConsoleServer(accounts: accounts, rules: AccountRules(configuration), setupCode: setupCode, ca: ca,
                                   counts: { try store.countsByState() }, tokens: tokens, logger: logger)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(ca.serverCertificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: ca.serverKeyPath, format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        // A browser that left without close_notify must not hold up the daemon's stop.
        tls.shutdownTimeout = .seconds(1)
        return ConsoleService(server: server, host: address.host, port: address.port, tls: tls, logger: logger)
    }
}

/// The HTTPS listener. A listener that cannot start (the port taken) is logged and the daemon
/// goes on without its console: documents still come in and go out.
struct ConsoleService: Service {
    let server: ConsoleServer
    let host: String
    let port: Int
    let tls: TLSConfiguration
    let logger: Logger

    func run() async throws {
        let logger = logger
        do {
            let application = Application(
                router: server.router(),
                server: try .tls(.http1(configuration: .init(idleTimeout: .seconds(60))), tlsConfiguration: tls),
                configuration: .init(address: .hostname(host, port: port), serverName: "gatewayd"),
                onServerRunning: { channel in
                    logger.notice("console listening", metadata: ["address": "\(host):\(channel.localAddress?.port ?? port)"])
                },
                logger: logger)
            try await application.run()
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
