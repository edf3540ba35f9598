// gatewayd: the commune document gateway's daemon and its command line for technicians and
// clerks. Only wiring lives here, one file per command under Commands/; the behaviour is in
// GatewayCore, DocumentSigning and EdXML.
import ArgumentParser
import Foundation
import TokenCommandLine

@main
struct Gatewayd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatewayd",
        abstract: "Cổng văn bản điện tử cấp xã / commune document gateway",
        discussion: """
            Exit status: 0 success; 1 refused or failed (the message says why); 3 the daemon is not \
            running; 64 wrong usage.
            """,
        subcommands: [
            Serve.self, Enroll.self, Submit.self, Queue.self, Show.self, Inbox.self, Directory.self, Status.self, Store.self, Backup.self, Restore.self,
            Audit.self, Config.self, DoctorCommand.self,
            Token.self, FirstBootCommand.self, DataLayoutCommand.self, Sign.self, SignQueue.self, Return.self, Withdraw.self, Replace.self, Register.self, Verify.self, EdXMLCommand.self, User.self, APIKey.self,
        ])

    /// ArgumentParser answers `gatewayd no-such-command --help` with the top-level help and
    /// status 0, so a script's typo looks like success; a command name that does not exist is
    /// refused first, whatever follows it.
    static func main() async {
        if let unknown = UnknownCommand.find(in: Array(CommandLine.arguments.dropFirst()), root: Self.self) {
            FileHandle.standardError.write(Data((unknown.message + "\n").utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        await main(nil)
    }
}
