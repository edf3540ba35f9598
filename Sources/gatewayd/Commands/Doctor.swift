// `gatewayd doctor`: the technician's checklist (GatewayCore's Doctor), printed or as JSON.
import ArgumentParser
import Console
import Foundation
import GatewayCore
import Logging
import TokenDriver

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Kiểm tra hộp / check the box: configuration, pcscd, tokens, certificates, hub, clock, disk, queues, store, console.",
        discussion: """
            Safe while the daemon runs (the store is read through a read-only connection, nothing is repaired). \
            Exit status: 0 every check ok; 1 warnings; 2 failures.
            """)
    @Flag(help: "JSON output: {checked_at, status, checks: [{id, status, message_vi, message_en, action_vi, action_en}]}.") var json = false
    @OptionGroup var location: Location

    func run() async throws {
        let path = location.configPath ?? GatewayConfiguration.defaultPath
        let report: DoctorReport
        do {
            let configuration = try location.resolve()
            var logger = Logger(label: "gatewayd.doctor")
            logger.logLevel = .error
            report = Doctor.report(await Doctor.gather(configurationPath: path, configuration: configuration,
                                                       tokens: await Self.tokens(configuration, logger: logger),
                                                       console: Self.console(configuration), logger: logger))
        } catch {
            report = Doctor.configurationFailure(path: path, problem: "\(error)", now: Date())
        }
        if json { try CLI.printJSON(report) } else { print(report.text) }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    /// The running daemon's view of the tokens (its watcher follows them; a second reader of the
    /// cards would compete with a signing session); one scan of our own when it is stopped.
    static func tokens(_ configuration: GatewayConfiguration, logger: Logger) async -> TokenServiceStatus? {
        if let running = try? await LocalAPIClient(socketPath: configuration.socketPath).status() {
            guard var status = running.tokens else { return nil }
            // The watcher marks pcscd available on its first reader event: with no reader plugged
            // in (a USB token is its own reader) it still says "unavailable". A context of our
            // own tells, without touching a card.
            if status.pcscd != "ok", (try? PCSCContext()) != nil { status.pcscd = "ok" }
            return status
        }
        // A module that would crash or hang ends the probe's child, not the technician's doctor.
        await ModuleProbes.run(configuration.resolvedTokens, logger: logger)
        return await TokenWatcher(logger: logger, tokens: configuration.resolvedTokens).scanOnce()
    }

    static func console(_ configuration: GatewayConfiguration) -> Doctor.ConsoleFiles? {
        guard configuration.console.enabled else { return nil }
        let ca = BoxCA(layout: configuration.layout)
        return Doctor.ConsoleFiles(caCertificate: ca.caCertificatePath, serverCertificate: ca.serverCertificatePath)
    }
}
