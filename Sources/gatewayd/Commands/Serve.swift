// `gatewayd serve`: the daemon in the foreground (the process set up here, the services in GatewayDaemon).
import ArgumentParser
import Console
import DocumentSigning
import Foundation
import GatewayCore
import Logging
import SafeLogging
import SessionTokens
import TrustHTTP
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
            var handler = EscapingLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "gatewayd")
        ProcessSetup.forDaemon()
        do {
            // A stop that overran its limit ends here; recovery at the next start repairs what it cut.
            // Modules named alone are files in module_dir: every loader gets the paths. Each is
            // tried in a child first: vendor code that crashes takes the child, not the daemon.
            await ModuleProbes.run(configuration.resolvedTokens, logger: logger)
            let tokens = TokenWatcher(logger: logger, tokens: configuration.resolvedTokens)
            try await GatewayDaemon.run(configuration: configuration, tokens: tokens,
                                        signing: (BoxSigningTokens(tokens: configuration.resolvedTokens, keepingModulesLoaded: true), signingEnvironment(configuration, logger: logger)), logger: logger,
                                        stopOverran: { _exit(1) },
                                        doors: { store, relay, stage in
                                            ConsoleDoor.services(configuration: configuration, store: store, relay: relay, signing: stage, tokens: tokens,
                                                                 logger: logger)
                                                + ScheduledBackups.services(configuration: configuration, configurationFile: location.configurationFile,
                                                                            logger: logger)
                                        })
        } catch let error as StoreLock.Failure {
            throw CLI.fail(error.description)
        } catch let enrolled as EnrolmentRetry.Enrolled {
            // 75 (EX_TEMPFAIL): systemd's Restart=always starts the daemon again, with the relay.
            throw CLI.fail("\(enrolled)", code: ExitCode(75))
        }
    }

    /// The signing stage's world: this machine's clock state; the token's certificate against
    /// `[trust]` (its chain, and revocation over HTTP unless `check_revocation = false`); an RFC
    /// 3161 timestamp when `[signing] tsa_url` is set.
    func signingEnvironment(_ configuration: GatewayConfiguration, logger: Logger) -> SigningEnvironment {
        var timestamp: (@Sendable ([UInt8]) async throws -> [UInt8])?
        if let url = configuration.signing.timestampURL {
            let client = TimeStampClient(url: url, fetcher: AsyncHTTPTrustFetcher())
            timestamp = { signatureValue in try await client.token(forSignature: signatureValue) }
        }
        let (anchors, problems) = CertificateStanding.anchors(configuration.trust.anchors)
        for problem in problems { logger.error("\(problem)") }
        let fetcher: (any TrustFetcher)? = configuration.trust.checkRevocation ? AsyncHTTPTrustFetcher() : nil
        return SigningEnvironment(
            clockSynchronised: { SystemClockState.synchronised() },
            checkCertificate: { chain in await CertificateStanding.check(chain: chain, anchors: anchors, fetcher: fetcher, now: Date()) },
            timestamp: timestamp)
    }
}
