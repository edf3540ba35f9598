import Foundation
import TestSupport
import XCTest

/// Issue 16, hubd's limits on what one client holds, with the real hubd: a box's quota of
/// unfinished uploads (count and declared bytes) refuses it alone, and a connection that finished
/// its TLS handshake but never completes a request head is closed by the header timeout.
final class HubdLimitsTests: XCTestCase, HubClientTesting {
    var hub: RunningHub!

    /// The quota at three uploads and 60,000 bytes (the package limit 50,000); the header timeout
    /// at its shortest and the idle timeout far longer, so only the header timeout can close a
    /// half-sent head within the test.
    override func setUp() async throws {
        hub = try await startHub(limits: """
            idle_timeout_seconds = 600
            header_timeout_seconds = 1
            max_package_bytes = 50000
            max_open_uploads_per_box = 3
            max_open_upload_bytes_per_box = 60000
            """)
    }

    override func tearDown() async throws { hub?.stop() }

    func create(length: Int, as client: String = "box") -> (http: Int, body: String, headers: String, exit: Int32, err: String) {
        hub.curl(["-X", "POST", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Length: \(length)", "/v1/uploads"], as: client)
    }

    /// Sends the whole of `package` to a new upload as `client`: its creation answer, its PATCH's status.
    func upload(_ package: String, as client: String) throws -> (location: String, patched: Int) {
        let size = Int((try FileManager.default.attributesOfItem(atPath: package)[.size] as? NSNumber)!.int64Value)
        let created = create(length: size, as: client)
        XCTAssertEqual(created.http, 201, created.body)
        let location = try XCTUnwrap(hub.header("Location", in: created.headers))
        return (location, patch(location, package, as: client))
    }

    func patch(_ location: String, _ package: String, as client: String = "box") -> Int {
        hub.curl(["-X", "PATCH", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 0", "-H", "Content-Type: application/offset+octet-stream",
                  "--data-binary", "@\(package)", location], as: client).http
    }

    func testABoxOverItsUploadQuotaIsRefusedAloneAndUploadsAgainOnceItsUploadsFinish() async throws {
        let (package, _) = try await makePackage("quota")
        let size = Int((try FileManager.default.attributesOfItem(atPath: package)[.size] as? NSNumber)!.int64Value)
        XCTAssertLessThan(3 * size, 10000)
        // Box A: two small unfinished uploads and a large one fill its three.
        let first = create(length: size)
        XCTAssertEqual(first.http, 201, first.body)
        XCTAssertEqual(create(length: size).http, 201)
        XCTAssertEqual(create(length: 50000).http, 201)
        let overCount = create(length: size)
        XCTAssertEqual(overCount.http, 429, overCount.body)
        XCTAssertEqual(errorCode(overCount.body), "busy")
        XCTAssertTrue(overCount.body.contains("tải lên chưa xong") && overCount.body.contains("unfinished uploads"), overCount.body)
        XCTAssertTrue(overCount.body.contains("3 uploads"), overCount.body)

        // Box B is not affected: it uploads a package to its end.
        let (neighbours, _) = try await makePackage("neighbours", from: RunningHub.neighbour)
        XCTAssertEqual(try upload(neighbours, as: "neighbour").patched, 204)

        // A finishes its first upload: room for one more, but not for more bytes than the quota.
        XCTAssertEqual(patch(try XCTUnwrap(hub.header("Location", in: first.headers)), package), 204)
        let overBytes = create(length: 10000)
        XCTAssertEqual(overBytes.http, 429, overBytes.body)
        XCTAssertTrue(overBytes.body.contains("2 uploads"), overBytes.body)
        XCTAssertEqual(create(length: size).http, 201, "a finished upload no longer counts")

        // Refusals are logged, on one line per ten seconds at most (three refusals here).
        let log = (try? String(contentsOfFile: hub.log, encoding: .utf8)) ?? ""
        let lines = log.components(separatedBy: "uploads refused: a box holds too many unfinished uploads").count - 1
        XCTAssertTrue((1...2).contains(lines), "\(lines) refusal lines:\n\(log)")
        XCTAssertFalse(log.contains("request failed"), "a refusal logged once per request:\n\(log)")
    }

    /// A real TLS client (openssl s_client, with a box's certificate) sends half a request head
    /// and keeps its side open: the hub closes the connection, which ends s_client. A request
    /// whose head arrived is not cut by the same timeout (a long poll outlasting it).
    func testAConnectionThatNeverCompletesItsRequestHeadIsClosed() throws {
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        let pki = hub.clients.directory
        client.arguments = ["s_client", "-quiet", "-connect", "127.0.0.1:\(hub.port)", "-servername", "localhost",
                            "-cert", pki + "/box.pem", "-key", pki + "/box.key", "-CAfile", hub.hubCA.root, "-verify_return_error"]
        let input = Pipe()
        let output = Pipe()
        client.standardInput = input
        client.standardOutput = output
        client.standardError = output
        let ended = DispatchSemaphore(value: 0)
        client.terminationHandler = { _ in ended.signal() }
        try client.run()
        defer {
            if client.isRunning { client.terminate() }
            try? input.fileHandleForWriting.close()
        }
        input.fileHandleForWriting.write(Data("GET /v1/directory HTTP/1.1\r\nHost: localhost\r\nAccept: appl".utf8))
        // s_client ends when the hub closes the connection; stdin stays open, so nothing else ends it.
        XCTAssertEqual(ended.wait(timeout: .now() + 60), .success, "the half-sent request head was not closed")
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertFalse(said.contains("HTTP/1.1"), "the hub answered a head it never received whole: \(said)")
        XCTAssertFalse(said.contains("verify error"), said)

        let poll = hub.curl(["/v1/inbox?wait=3"])
        XCTAssertEqual(poll.http, 200, poll.err)
    }
}
