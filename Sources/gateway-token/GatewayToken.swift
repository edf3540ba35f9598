// `gateway-token`: the technician's token tool — the `gatewayd token` commands in a program that
// carries nothing else. It exists because a one-shot command pays for what its binary holds:
// `gatewayd` links the whole daemon (NIO, GRDB, Hummingbird …), and the Swift runtime's first
// protocol-conformance lookups scan every conformance record in the process, which cost about 10 ms
// per start — as much as the card's own work for a signature. This program starts in a few
// milliseconds (measured in docs/PERFORMANCE.md, "Token signing").
import ArgumentParser
import TokenCommandLine

@main
// Synchronous (`ParsableCommand`): the whole command runs on the main thread, no concurrency pool.
struct GatewayToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-token",
        abstract: "Token ký số / USB signing tokens (PIV over PC/SC) — the same commands as `gatewayd token`.",
        discussion: "Exit status: 0 success; 1 refused or failed (the message says why); 64 wrong usage.",
        subcommands: Token.configuration.subcommands)

    /// `sign` in its plain spelling runs without ArgumentParser's parse, the largest part of our
    /// start-up (TokenSignRequest.swift says which spellings, and why); every other command line
    /// — help and mistakes included — goes through ArgumentParser, which says what it always says.
    static func main() {
        guard let sign = SignRequest.plainlySpelled(Array(CommandLine.arguments.dropFirst())) else {
            return main(nil)
        }
        do { try sign.run() } catch { exit(withError: error) }  // as ArgumentParser's main ends a run
    }
}
