// `gatewayd serve`: the daemon in the foreground (the process set up here, the services in GatewayDaemon).
import ArgumentParser
import Foundation
import GatewayCore
import Logging
#if canImport(Glibc)
import Glibc
#endif

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Chạy dịch vụ (foreground) / run the daemon in the foreground.")
    @OptionGroup var location: Location

    func run() async throws {
        let configuration: GatewayConfiguration
        do { configuration = try location.resolve() } catch { throw CLI.fail("\(error)") }
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "gatewayd")
        ProcessSetup.forDaemon()
        do {
            // A stop that overran its limit ends here; recovery at the next start repairs what it cut.
            try await GatewayDaemon.run(configuration: configuration, tokens: TokenWatcher(logger: logger), logger: logger,
                                        stopOverran: { _exit(1) })
        } catch let error as StoreLock.Failure {
            throw CLI.fail(error.description)
        }
    }
}
