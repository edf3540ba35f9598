import ArgumentParser
import Foundation
import HubCore
import Hummingbird
import Logging
import SafeLogging
import ServiceLifecycle

/// hubd, the reference hub a district or province runs in front of its document system
/// (docs/hubd.md, docs/protocol.md). Wiring only: everything else is in HubCore.
@main
struct Hubd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hubd",
        abstract: "Hub tham chiếu cho hộp văn bản xã / the reference hub for commune document gateways",
        subcommands: [Serve.self, CheckConfig.self, Revoke.self, EnrollToken.self])
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Chạy hub / run the hub")

    @Option(help: "Tệp cấu hình TOML / the TOML configuration file")
    var config: String = "/etc/hubd/hubd.toml"

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = EscapingLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = ProcessInfo.processInfo.environment["HUBD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return handler
        }
        let logger = Logger(label: "hubd")
        let configuration: HubConfiguration
        do { configuration = try HubConfiguration.load(path: config) } catch {
            FileHandle.standardError.write(Data("hubd: cấu hình không dùng được / unusable configuration:\n\(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG: systemd does not restart in a loop on a bad file
        }
        let server: HubServer
        do { server = try HubServer(configuration: configuration, logger: logger) } catch let error as RevocationError {
            // A CRL or a CA that cannot be used needs a technician as a bad configuration does.
            FileHandle.standardError.write(Data("hubd: CRL hoặc CA không dùng được / unusable CRL or CA:\n\(error)\n".utf8))
            throw ExitCode(78)
        }
        // The enrolment listener (`[enrolment] listen`) beside the main one, stopped with it.
        var services: [any Service] = [try server.service()]
        if let enrolment = try server.enrolmentApplication() { services.append(enrolment) }
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // The stop is bounded (systemd's TimeoutStopSec is 30): long polls and uploads end at once
        // (HubServer.service); should anything else hold on, it is cancelled after 2.5 s, and a
        // cancellation not honoured within 1.5 s more ends the process.
        group.maximumGracefulShutdownDuration = .milliseconds(2500)
        group.maximumCancellationDuration = .milliseconds(1500)
        try await ServiceGroup(configuration: group).run()
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Kiểm tra tệp cấu hình / check a configuration file")

    @Option(help: "Tệp cấu hình TOML / the TOML configuration file")
    var config: String = "/etc/hubd/hubd.toml"

    func run() throws {
        do {
            let configuration = try HubConfiguration.load(path: config)
            // The CRL too: serve would stop on one it cannot use (exit 78).
            let revoked = try configuration.crlFile.map { try Revocations.check(crlFile: $0, clientCAFile: configuration.clientCA) }
            // The issuing CA too: serve stops on a key that does not fit or a CA outside client_ca.
            if configuration.caCertificate != nil { _ = try BoxCertificateIssuer(configuration: configuration) }
            print("OK: \(configuration.hubCode) \(configuration.hubName), \(configuration.agencies.filter(\.served).count) xã / communes served"
                  + (revoked.map { ", CRL: \($0) thu hồi / revoked" } ?? "")
                  + (configuration.enrolmentPort.map { ", đăng ký / enrolment: \(configuration.enrolmentHost ?? ""):\($0)" } ?? ""))
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}
