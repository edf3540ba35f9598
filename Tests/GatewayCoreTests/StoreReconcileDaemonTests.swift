import Foundation
import TestSupport
import XCTest
@testable import GatewayCore

/// The daemon runs the store's reconcile once it is READY: what start-up no longer repairs (an
/// orphan, a row whose content went missing) is repaired after the doors open.
final class StoreReconcileDaemonTests: XCTestCase {
    func testTheDaemonReconcilesTheStoreAfterReady() async throws {
        let daemon = try RunningDaemon()
        defer { daemon.stop() }
        try await daemon.waitUntilReady()
        let input = daemon.directory + "/a.pdf"
        _ = FileManager.default.createFile(atPath: input, contents: Data(SamplePDF.bytes("reconcile")))
        let submitted = daemon.cli(["submit", input, "--to", "000.00.20.H13", "--json"])
        XCTAssertEqual(submitted.status, 0, submitted.err)
        let layout = StoreLayout(dataDirectory: daemon.dataDirectory)
        let objects = try FileManager.default.contentsOfDirectory(atPath: layout.objectsDirectory)
        guard objects.count == 1 else { return XCTFail("expected the one stored document, found \(objects)") }
        let orphan = "01a00000-0000-7000-8000-000000000000"
        _ = FileManager.default.createFile(atPath: layout.objectsDirectory + "/" + orphan, contents: Data([42]))
        try FileManager.default.removeItem(atPath: layout.objectsDirectory + "/" + objects[0])

        // The first run reconciled too (after its READY): wait for the restarted daemon's line.
        let before = try String(contentsOfFile: daemon.logPath, encoding: .utf8).utf8.count
        try await daemon.killAndRestart()
        try await waitUntil {
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: daemon.logPath)).dropFirst(before), as: UTF8.self).contains("store reconciled")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: layout.orphansDirectory + "/" + orphan))
        XCTAssertFalse(FileManager.default.fileExists(atPath: layout.objectsDirectory + "/" + orphan))
        let list = daemon.cli(["queue", "list", "--json"])
        XCTAssertTrue(list.out.contains("quarantined"), list.out)
    }
}
