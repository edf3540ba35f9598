import Foundation
import TestSupport
import XCTest

/// Revocation of box certificates at the hub (issue 17): the real hubd with `server.crl_file`,
/// CRLs written by `hubd revoke` and judged by openssl, boxes played by curl.
final class HubdRevocationTests: XCTestCase, HubClientTesting {
    var hub: RunningHub!

    override func setUp() async throws { hub = try await startHub(crl: true) }

    override func tearDown() async throws { hub?.stop() }

    /// `hubd revoke` with the running hub's configuration.
    func revoke(_ arguments: [String], configuration: String? = nil) -> (status: Int32, out: String, err: String) {
        runProgram(RunningHub.binary, ["revoke", "--config", configuration ?? hub.directory + "/hubd.toml"] + arguments)
    }

    /// The box's serial as openssl prints it.
    func serial(_ name: String) -> String {
        let out = runProgram("/usr/bin/openssl", ["x509", "-in", hub.clients.directory + "/\(name).pem", "-noout", "-serial"]).out
        return out.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")
    }

    /// Connects as `client` until hubd refuses it (it looks at the CRL file once a second at
    /// most, so the first handshakes after a change may still pass): whether it was refused
    /// within `attempts` connections.
    func refusedWithin(_ attempts: Int, as client: String) -> Bool {
        for _ in 0..<attempts where isRefused(hub.curl(["/v1/directory"], as: client)) { return true }
        return false
    }

    /// The connection closed after the handshake without an answer.
    func isRefused(_ result: (http: Int, body: String, headers: String, exit: Int32, err: String)) -> Bool {
        result.http == 0 && result.exit != 0
    }

    func testARevokedBoxIsRefusedAtTheHandshakeWithoutRestartAnotherStillWorksAndTheCRLVerifiesWithOpenSSL() throws {
        XCTAssertEqual(hub.curl(["/v1/directory"]).http, 200, "not revoked yet")

        let revoked = revoke(["--agency", RunningHub.commune, "--certificate", hub.clients.directory + "/box.pem", "--reason", "keyCompromise"])
        XCTAssertEqual(revoked.status, 0, revoked.err)
        XCTAssertTrue(revoked.out.contains(serial("box")), revoked.out)
        let checked = runProgram(RunningHub.binary, ["check-config", "--config", hub.directory + "/hubd.toml"])
        XCTAssertTrue(checked.out.contains("CRL: 1 thu hồi / revoked"), checked.out + checked.err)

        // openssl is the judge of the CRL hubd wrote: signed by the clients' CA, listing the box.
        let verified = runProgram("/usr/bin/openssl", ["crl", "-in", hub.crlFile, "-noout", "-verify", "-CAfile", hub.clients.root])
        XCTAssertEqual(verified.status, 0, verified.err)
        XCTAssertTrue(verified.err.contains("verify OK"), verified.err)
        let listed = runProgram("/usr/bin/openssl", ["verify", "-crl_check", "-CAfile", hub.clients.root, "-CRLfile", hub.crlFile,
                                                     hub.clients.directory + "/box.pem"])
        XCTAssertNotEqual(listed.status, 0)
        XCTAssertTrue((listed.out + listed.err).contains("certificate revoked"), listed.out + listed.err)

        // The running hubd takes the new file without a restart.
        XCTAssertTrue(refusedWithin(200, as: "box"), "hubd still accepts the revoked box")
        XCTAssertTrue(hub.process.isRunning)
        XCTAssertEqual(hub.curl(["/v1/directory"], as: "neighbour").http, 200, "another box still works")
        XCTAssertTrue(hub.waitForLog("revoked box certificate refused"))
        let log = try String(contentsOfFile: hub.log, encoding: .utf8)
        let line = log.split(separator: "\n").first { $0.contains("revoked box certificate refused") }.map(String.init) ?? ""
        XCTAssertTrue(line.contains(RunningHub.commune) && line.contains(serial("box")) && line.contains("revoked_at"), line)
        XCTAssertTrue(log.contains("CRL reloaded"))

        // Already revoked: nothing added, the CRL still verifies.
        let again = revoke(["--agency", RunningHub.commune, "--serial", serial("box")])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.out.contains("already revoked"), again.out)
    }

    func testAConnectionKeptOpenFromBeforeTheRevocationIsRefusedFromItsNextRequest() throws {
        // openssl s_client as a box that keeps its connection (as its long polls do).
        let output = hub.directory + "/kept.out"
        FileManager.default.createFile(atPath: output, contents: nil)
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        client.arguments = ["s_client", "-quiet", "-connect", "127.0.0.1:\(hub.port)", "-servername", "localhost", "-CAfile", hub.hubCA.root,
                            "-cert", hub.clients.directory + "/box.pem", "-key", hub.clients.directory + "/box.key"]
        let input = Pipe()
        client.standardInput = input
        client.standardOutput = FileHandle(forWritingAtPath: output)
        client.standardError = FileHandle.nullDevice
        try client.run()
        defer { client.terminate() }
        /// One request on the kept connection: the status of its answer.
        func ask() -> String? {
            let before = occurrences(of: "HTTP/1.1 ", inFile: output)
            input.fileHandleForWriting.write(Data("GET /v1/directory HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
            guard waitUntil(changesIn: hub.directory, { occurrences(of: "HTTP/1.1 ", inFile: output) > before }) else { return nil }
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            return text.components(separatedBy: "HTTP/1.1 ").last.map { String($0.prefix(3)) }
        }
        XCTAssertEqual(ask(), "200")

        XCTAssertEqual(revoke(["--agency", RunningHub.commune, "--certificate", hub.clients.directory + "/box.pem"]).status, 0)
        var status = ask()
        for _ in 0..<300 where status == "200" { status = ask() }
        XCTAssertEqual(status, "403", (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
        XCTAssertTrue(occurrences(of: "\"unknown_client\"", inFile: output) > 0)
        XCTAssertTrue(hub.waitForLog("revoked box certificate refused"))
    }

    func testACRLSignedByAnotherCAIsRefusedWithItsMessageAtStartAndWhileRunningTheOldOneStaysInForce() throws {
        XCTAssertEqual(revoke(["--agency", RunningHub.commune, "--certificate", hub.clients.directory + "/box.pem"]).status, 0)
        XCTAssertTrue(refusedWithin(200, as: "box"))

        // A CRL of the hub's server CA, which issues no box certificate, written by hubd revoke itself.
        let foreign = hub.directory + "/foreign.toml"
        try """
            [server]
            client_ca = "\(hub.hubCA.root)"
            crl_file = "\(hub.directory)/foreign-crl.pem"
            [ca]
            certificate_file = "\(hub.hubCA.root)"
            key_file = "\(hub.directory)/hub-ca.key"
            [hub]
            code = "\(RunningHub.hubCode)"
            name = "UBND tỉnh Quảng Trị"
            data_directory = "\(hub.directory)/foreign"
            """.write(toFile: foreign, atomically: true, encoding: .utf8)
        XCTAssertEqual(revoke(["--agency", RunningHub.neighbour, "--serial", "1234"], configuration: foreign).status, 0)

        // Put in place while hubd runs (a rename, as an operator's copy would be): refused, said
        // why, and the box revoked by the previous CRL stays refused.
        XCTAssertEqual(rename(hub.directory + "/foreign-crl.pem", hub.crlFile), 0)
        let message = "is not signed by the CA that issues the boxes' certificates"
        for _ in 0..<200 where occurrences(of: message, inFile: hub.log) == 0 {
            _ = hub.curl(["/v1/directory"], as: "neighbour")
        }
        XCTAssertTrue(hub.waitForLog("new CRL refused, the previous one stays in force"))
        XCTAssertEqual(occurrences(of: message, inFile: hub.log), 1, "said once, not at every look")
        XCTAssertTrue(isRefused(hub.curl(["/v1/directory"])), "the previous CRL stays in force")
        XCTAssertEqual(hub.curl(["/v1/directory"], as: "neighbour").http, 200)

        // At start, the same CRL stops hubd with the same message.
        hub.process.terminate()
        hub.process.waitUntilExit()
        try hub.start()
        XCTAssertTrue(hub.waitForExit(timeout: .seconds(30)), "hubd started with a CRL of another CA")
        XCTAssertEqual(hub.process.terminationStatus, 78, "EX_CONFIG: systemd does not restart it in a loop")
        XCTAssertEqual(occurrences(of: message, inFile: hub.log), 2)
        // And check-config, systemd's ExecStartPre, says the same.
        let checked = runProgram(RunningHub.binary, ["check-config", "--config", hub.directory + "/hubd.toml"])
        XCTAssertEqual(checked.status, 78)
        XCTAssertTrue(checked.err.contains(message), checked.err)
    }
}
