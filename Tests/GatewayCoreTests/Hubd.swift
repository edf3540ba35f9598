import Foundation
import TestSupport

/// The real `hubd` as a separate process, for the tests that run a box against it through the
/// relay (RelayEndToEndTests, IncomingTrustRelayTests).
enum Hubd {
    /// The hub branch's `.build/debug/hubd`, or the path in `HUBD`.
    static var binary: String {
        ProcessInfo.processInfo.environment["HUBD"] ?? repositoryRoot.appendingPathComponent(".build/debug/hubd").path
    }

    /// `hubd serve` on `config` written to `directory/hubd.toml`, its log in `directory/hubd.log`;
    /// returns once it listens on `port` (under load hubd takes a while to listen, and a box's
    /// first exchange refused is not the TLS refusal a test may expect). Stopped if it never does.
    static func start(config: String, directory: String, port: Int) async throws -> Process {
        try config.write(toFile: directory + "/hubd.toml", atomically: true, encoding: .utf8)
        let hub = Process()
        hub.executableURL = URL(fileURLWithPath: binary)
        hub.arguments = ["serve", "--config", directory + "/hubd.toml"]
        FileManager.default.createFile(atPath: directory + "/hubd.log", contents: nil)
        hub.standardError = FileHandle(forWritingAtPath: directory + "/hubd.log")
        try hub.run()
        do { try await waitUntil(seconds: 60) { isListening(onLoopbackPort: port) } } catch {
            hub.terminate()
            hub.waitUntilExit()
            throw error
        }
        return hub
    }
}
