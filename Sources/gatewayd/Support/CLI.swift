// What the commands share: the documented exit statuses, JSON output, and reading the store
// directly when the daemon is stopped.
import ArgumentParser
import DocumentModel
import Foundation
import GatewayCore
import Logging
import TimeJSON

enum CLI {
    static let daemonNotRunning = ExitCode(3)

    static func fail(_ message: String, code: ExitCode = .failure) -> ExitCode {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        return code
    }

    /// Runs a client call and turns its failures into the documented exit statuses.
    static func call<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as LocalAPIClient.Failure {
            if case .daemonNotRunning = failure { throw fail(failure.description, code: daemonNotRunning) }
            throw fail(failure.description)
        } catch let errors as ConfigurationErrors {
            throw fail(errors.description)
        }
    }

    /// Who runs the command, for a document's history: the person behind sudo, else the login.
    static var user: String {
        let environment = ProcessInfo.processInfo.environment
        return environment["SUDO_USER"] ?? environment["USER"] ?? "uid \(getuid())"
    }

    static func printJSON(_ value: some Encodable) throws {
        let data = try GatewayJSON.encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Asks the daemon; when it is not running, reads the store itself, so a technician can look
    /// at a stopped box. Other failures become the documented exit statuses.
    static func fromDaemonOrStore<T>(
        _ configuration: GatewayConfiguration,
        daemon: (LocalAPIClient) async throws -> T,
        store: (LocalAPIQueries) throws -> T
    ) async throws -> T {
        do {
            return try await daemon(LocalAPIClient(socketPath: configuration.socketPath))
        } catch LocalAPIClient.Failure.daemonNotRunning {
            FileHandle.standardError.write(Data("(gatewayd không chạy: đọc trực tiếp kho / daemon not running: reading the store directly)\n".utf8))
            var logger = Logger(label: "gatewayd")
            logger.logLevel = .warning
            do { return try LocalAPIQueries.withStoppedDaemon(configuration, logger: logger, store) } catch let error as StoreLock.Failure {
                throw fail(error.description)
            }
        } catch let failure as LocalAPIClient.Failure {
            throw fail(failure.description)
        }
    }

}
