// `gatewayd serve`: the daemon in the foreground (the process set up here, the services in GatewayDaemon).
import ArgumentParser
import DocumentSigning
import Foundation
import GatewayCore
import Logging
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
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "gatewayd")
        ProcessSetup.forDaemon()
        do {
            // A stop that overran its limit ends here; recovery at the next start repairs what it cut.
            try await GatewayDaemon.run(configuration: configuration, tokens: TokenWatcher(logger: logger),
                                        signing: (PIVSigningTokens(), signingEnvironment(configuration)), logger: logger,
                                        stopOverran: { _exit(1) })
        } catch let error as StoreLock.Failure {
            throw CLI.fail(error.description)
        }
    }

    /// The signing stage's world: this machine's clock state, and an RFC 3161 timestamp when
    /// `[signing] tsa_url` is set. Revocation is not asked yet: without the trust anchors of
    /// `[trust]` (the issue "Trust what arrives") it is recorded as not-checked, never as good.
    func signingEnvironment(_ configuration: GatewayConfiguration) -> SigningEnvironment {
        var timestamp: (@Sendable ([UInt8]) async throws -> [UInt8])?
        if let url = configuration.signing.timestampURL {
            let client = TimeStampClient(url: url, fetcher: AsyncHTTPTrustFetcher())
            timestamp = { signatureValue in try await client.token(forSignature: signatureValue) }
        }
        return SigningEnvironment(clockSynchronised: { SystemClockState.synchronised() }, timestamp: timestamp)
    }
}
