import Foundation
import TestSupport
import XCTest

/// Issue 12, acceptance 2: the real hubd exits within 5 s of SIGTERM whatever is in flight —
/// before, a box's long poll held it until the poll's time was up (23 s seen).
final class HubdShutdownTests: XCTestCase, HubClientTesting {
    var hub: RunningHub!

    override func setUp() async throws { hub = try await startHub() }

    override func tearDown() async throws { hub?.stop() }

    func testSIGTERMEndsHubdWithinFiveSecondsWithALongPollAndAnUploadInFlightAndTheUploadResumes() async throws {
        let (package, _) = try await makePackage("slow", payload: Array(repeating: UInt8(ascii: "s"), count: 1 << 20))
        let size = try XCTUnwrap(fileSize(package))
        let created = hub.curl(["-X", "POST", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Length: \(size)", "/v1/uploads"])
        let location = try XCTUnwrap(hub.header("Location", in: created.headers))
        let part = hub.data + "/uploads/" + (location as NSString).lastPathComponent + ".part"

        // A box's long poll of a minute, and another upload trickling in at 16 kB/s (a minute too).
        let poll = try hub.startCurl(["/v1/inbox?wait=60"])
        let upload = try hub.startCurl(["-X", "PATCH", "--limit-rate", "16k", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 0",
                                        "-H", "Content-Type: application/offset+octet-stream", "--data-binary", "@\(package)", location])
        XCTAssertTrue(hub.waitForLog("long poll waiting"), "the long poll is held open")
        XCTAssertTrue(waitUntil(changesIn: hub.data + "/uploads") { (fileSize(part) ?? 0) > 0 }, "the upload is receiving")

        let signalled = ContinuousClock.now
        hub.process.terminate()
        XCTAssertTrue(hub.waitForExit(timeout: .seconds(10)), "hubd still running 10 s after SIGTERM")
        let stopping = ContinuousClock.now - signalled
        print("hubd stopped \(stopping) after SIGTERM")
        let log = (try? String(contentsOfFile: hub.log, encoding: .utf8)) ?? ""
        XCTAssertLessThan(stopping, .seconds(5), log)
        XCTAssertEqual(hub.process.terminationStatus, 0, "a clean stop, not the service group's cancellation: \(log)")

        // The poll got its answer (nothing waits); the upload was cut, its bytes kept.
        let polled = poll.finish()
        XCTAssertEqual(polled.http, 200, polled.body)
        XCTAssertTrue(polled.body.contains(#""items":[]"#), polled.body)
        let cut = upload.finish()
        XCTAssertNotEqual(cut.exit, 0, "the PATCH should have been cut")
        let kept = try XCTUnwrap(fileSize(part))
        XCTAssertGreaterThan(kept, 0)
        XCTAssertLessThan(kept, size)

        // hubd again: the upload resumes from what was kept and completes.
        try hub.start()
        try await hub.waitUntilReady()
        let asked = hub.curl(["-I", "-H", "Tus-Resumable: 1.0.0", location])
        XCTAssertEqual(hub.header("Upload-Offset", in: asked.headers), "\(kept)")
        let rest = files + "/slow-rest.part"
        _ = FileManager.default.createFile(atPath: rest, contents: try Data(contentsOf: URL(fileURLWithPath: package)).suffix(from: kept))
        let last = hub.curl(["-X", "PATCH", "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: \(kept)",
                             "-H", "Content-Type: application/offset+octet-stream", "--data-binary", "@\(rest)", location])
        XCTAssertEqual(last.http, 204, last.body)
        XCTAssertEqual(hub.handoffFiles().count, 1)
        XCTAssertEqual(try sha256Hex(hub.handoff + "/" + hub.handoffFiles()[0]), try sha256Hex(package))
    }
}
