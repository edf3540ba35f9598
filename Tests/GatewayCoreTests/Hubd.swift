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

    /// hubd for a province (also its office, posting documents down through the office API) and
    /// one commune it serves, its certificates from `pki`, its data in `directory/hub`.
    /// `extra`: TOML appended (`[ca]` and `[enrolment]`, more `[[agency]]`); `port`: the hub's
    /// port when it must stay the same across a restart.
    static func startProvince(pki: TestPKI, directory: String, province: String, commune: String, extra: String = "",
                              port chosenPort: Int? = nil) async throws -> (hub: Process, port: Int, office: TestPKI.Signer) {
        let server = try pki.issue("hub", subject: "/CN=localhost/O=UBND tỉnh Quảng Trị", key: .p256,
                                   extensions: "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
        let office = try pki.issue("office", subject: "/CN=\(province)/O=UBND tỉnh Quảng Trị", key: .p256, extensions: clientExtensions)
        let port = chosenPort ?? freeLoopbackPort()
        let hub = try await start(config: """
            [server]
            listen = "127.0.0.1:\(port)"
            client_ca = "\(pki.root)"
            certificate = "\(server.chain)"
            key = "\(server.key)"
            [hub]
            code = "\(province)"
            name = "UBND tỉnh Quảng Trị"
            data_directory = "\(directory)/hub"
            handoff_directory = "\(directory)/handoff"
            [office]
            codes = ["\(province)"]
            """ + [(province, "UBND tỉnh Quảng Trị", false), (commune, "UBND xã Hòa Tiến", true)].map { code, name, served in
                "\n[[agency]]\ncode = \"\(code)\"\nname = \"\(name)\"\nserved = \(served)"
            }.joined() + "\n" + extra, directory: directory, port: port)
        return (hub, port, office)
    }

    static let clientExtensions = "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"

    /// The configuration of the commune's box against `startProvince`'s hub, a certificate for
    /// it issued by `pki`; `extra` is TOML appended (a `[trust]` table, say).
    static func boxConfiguration(pki: TestPKI, commune: String, port: Int, extra: String = "") throws -> String {
        let certificate = try pki.issue("box", subject: "/CN=\(commune)/O=UBND xã Hòa Tiến", key: .p256, extensions: clientExtensions)
        return """
            [agency]
            code = "\(commune)"
            name = "UBND xã Hòa Tiến"
            [intake]
            disk_reserve = 0
            [upstream]
            url = "https://localhost:\(port)"
            ca_file = "\(pki.root)"
            certificate = "\(certificate.chain)"
            key = "\(certificate.key)"
            long_poll = "2s"
            retry_base = "200ms"
            retry_cap = "2s"
            """ + "\n" + extra
    }
}
