import EdXML
import Foundation
import TestSupport
import XCTest

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
    static func boxConfiguration(pki: TestPKI, commune: String, port: Int, extra: String = "", days: Int = 10) throws -> String {
        let certificate = try pki.issue("box", subject: "/CN=\(commune)/O=UBND xã Hòa Tiến", key: .p256, extensions: clientExtensions, days: days)
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

/// What the tests that run a box against a province's hubd share (InboxNeverBlocksRelayTests,
/// RedeliveryRelayTests): their programs, a directory with a test CA, documents the province's
/// office posts down, and the clean-up.
extension Hubd {
    /// Skips unless hubd, gatewayd, curl and sqlite3 are there; a fresh directory and its CA.
    static func prepare(_ prefix: String, caSubject: String) throws -> (directory: String, pki: TestPKI) {
        for program in [binary, RunningDaemon.binary, "/usr/bin/curl", "/usr/bin/sqlite3"] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: program), "needs \(program) (hubd and gatewayd: swift build)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return (directory, try TestPKI(directory: directory, name: "ca", subject: caSubject))
    }

    /// Stops the box and the hub, keeps hubd's log for scripts/test, removes the directory.
    static func cleanUp(box: RunningDaemon?, hub: Process?, directory: String) {
        box?.stop()
        if let hub, hub.isRunning { hub.terminate(); hub.waitUntilExit() }
        TestLogs.keep(directory + "/hubd.log", as: "hubd")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A document package from `province` to `commune`, written by the EdXML module into `directory`.
    static func documentPackage(number: String, province: String, commune: String, directory: String) async throws -> String {
        let code = DocumentCode(number: number, notation: "UBND-VP")
        let document = DocumentPackage(header: MessageHeader(
            from: Organization(organId: province, organName: "UBND tỉnh Quảng Trị"), to: [Organization(organId: commune)], code: code,
            promulgationInfo: PromulgationInfo(date: "2026/11/21"), subject: "Về việc kiểm tra đê điều số \(number)",
            documentId: MessageHeader.composedDocumentId(from: province, date: "2026/11/21", code: code)))
        let path = directory + "/down-\(number).edxml"
        try await PackageWriter.write(document, attachmentFiles: [], to: path)
        return path
    }

    /// Posts a package through the office API as `office`; returns the HTTP status and body.
    static func postAsOffice(_ path: String, pki: TestPKI, office: TestPKI.Signer, port: Int) -> (http: String, body: String) {
        let posted = runProgram("/usr/bin/curl", ["-sS", "--cacert", pki.root, "--cert", office.chain, "--key", office.key,
                                                  "--data-binary", "@" + path, "-H", "Content-Type: application/xml",
                                                  "-w", "\n%{http_code}", "https://localhost:\(port)/office/v1/packages"])
        return (String(posted.out.suffix(3)), posted.out)
    }
}
