import Foundation
import TestSupport
import XCTest

/// nginx in front of hubd with `ssl_crl` on the same CRL file (packaging/nginx-hubd.conf): a box
/// revoked by `hubd revoke` is refused by hubd at once (it checks the forwarded certificate
/// against its own copy, read again when the file changes), and by nginx itself after a reload.
final class NginxRevocationTests: XCTestCase, HubClientTesting {
    var hub: RunningHub!
    var nginx: RunningNginx!

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningNginx.binary), "needs nginx (scripts/install-deps)")
        hub = try await startHub(extraConfiguration: RunningNginx.hubConfiguration, crl: true)
        nginx = try RunningNginx(in: hub, crl: true)
        try await nginx.waitUntilReady(hub)
    }

    override func tearDown() async throws {
        nginx?.stop()
        hub?.stop()
    }

    func viaNginx(as client: String) -> (http: Int, body: String, headers: String, exit: Int32, err: String) {
        hub.curl(["/v1/directory"], as: client, port: nginx.port)
    }

    func testARevokedBoxIsRefusedBehindNginxByHubdAtOnceAndByNginxAfterItsReload() throws {
        let revoked = runProgram(RunningHub.binary, ["revoke", "--config", hub.directory + "/hubd.toml", "--agency", RunningHub.commune,
                                                     "--certificate", hub.clients.directory + "/box.pem"])
        XCTAssertEqual(revoked.status, 0, revoked.err)

        // nginx still holds the CRL it started with; hubd refuses the forwarded certificate
        // (it looks at the file once a second at most: bounded retries).
        var answer = viaNginx(as: "box")
        for _ in 0..<200 where answer.http == 200 { answer = viaNginx(as: "box") }
        XCTAssertEqual(answer.http, 403, answer.body)
        XCTAssertEqual(errorCode(answer.body), "forwarded_identity", answer.body)
        XCTAssertTrue(hub.waitForLog("The forwarded certificate is revoked"))

        // After a reload (what packaging/hubd-crl-reload.path does), nginx refuses it itself.
        let workers = occurrences(of: "start worker process", inFile: nginx.errorLog)
        let reload = runProgram(RunningNginx.binary, ["-c", nginx.directory + "/nginx.conf", "-p", nginx.directory + "/", "-s", "reload"])
        XCTAssertEqual(reload.status, 0, reload.err)
        XCTAssertTrue(waitUntil(changesIn: nginx.directory) { occurrences(of: "start worker process", inFile: nginx.errorLog) > workers })
        for _ in 0..<200 where answer.http != 400 { answer = viaNginx(as: "box") }
        XCTAssertEqual(answer.http, 400, answer.body)
        XCTAssertTrue(answer.body.contains("SSL certificate error"), answer.body)
        XCTAssertTrue(occurrences(of: "certificate revoked", inFile: nginx.errorLog) > 0, "nginx names the reason in its log")

        XCTAssertEqual(viaNginx(as: "neighbour").http, 200, "another box still works through nginx")
    }
}
