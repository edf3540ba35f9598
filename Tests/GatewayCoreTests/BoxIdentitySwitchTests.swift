import Foundation
import Logging
import NIOPosix
import TestSupport
import XCTest
@testable import GatewayCore

/// The renewal's switch as the relay's TLS client sees it: after `BoxIdentity.switchTo`, the next
/// handshake presents the new certificate (NIOSSL asks the identity at every handshake, on the
/// client side too). The server is `openssl s_server`, which requires a client certificate and
/// prints each one it verified — independent of the code under test.
final class BoxIdentitySwitchTests: XCTestCase {
    func testANewConnectionPresentsTheCertificateSwitchedIn() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-identity-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI(directory: directory, name: "ca")
        let server = try pki.issue("server", subject: "/CN=localhost", key: .p256,
                                   extensions: "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n")
        let client = "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
        let first = try pki.issue("first", subject: "/CN=000.00.20.H13/O=first", key: .p256, extensions: client)
        let second = try pki.issue("second", subject: "/CN=000.00.20.H13/O=second", key: .p256, extensions: client)
        func files(_ signer: TestPKI.Signer) -> BoxIdentityFiles {
            BoxIdentityFiles(certificate: signer.chain, key: signer.key, state: directory + "/state", token: directory + "/token")
        }

        let port = freeLoopbackPort()
        let output = directory + "/s_server.out"
        FileManager.default.createFile(atPath: output, contents: nil)
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", server.chain, "-key", server.key,
                             "-CAfile", pki.root, "-Verify", "1", "-www", "-quiet"]
        openssl.standardOutput = FileHandle(forWritingAtPath: output)
        openssl.standardError = FileHandle(forWritingAtPath: output)
        try openssl.run()
        // Foundation's blocked signal mask is inherited (SIGTERM would never arrive): SIGKILL.
        defer { if openssl.isRunning { kill(openssl.processIdentifier, SIGKILL); openssl.waitUntilExit() } }
        try await waitUntil(seconds: 30) { isListening(onLoopbackPort: port) }

        let identity = try BoxIdentity(files: files(first))
        var upstream = GatewayConfiguration.Upstream()
        (upstream.url, upstream.caFile, upstream.certificateFile, upstream.keyFile) = ("https://localhost:\(port)", pki.root, first.chain, first.key)
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let relay = try RelayClient(settings: try RelayClient.Settings(upstream), ioPool: pool, logger: Logger(label: "test"), identity: identity)
        func seen() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

        // s_server -www answers an HTML page (not the directory's JSON) and closes: each call is
        // a new connection and a new handshake.
        _ = try? await relay.fetchDirectory()
        try await waitUntil(seconds: 30) { seen().contains("O = first") || seen().contains("O=first") }
        XCTAssertFalse(seen().contains("second"), seen())
        identity.switchTo(try BoxIdentityMaterial(files: files(second)))
        XCTAssertEqual(identity.certificateChain.first?.subject.description.contains("second"), true, "the envelopes' signer follows")
        _ = try? await relay.fetchDirectory()
        try await waitUntil(seconds: 30) { seen().contains("O = second") || seen().contains("O=second") }
        await relay.shutdown()
        try await pool.shutdownGracefully()
    }
}
