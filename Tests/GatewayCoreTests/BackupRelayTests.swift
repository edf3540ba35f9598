import DocumentModel
import DurableFiles
import Foundation
import GRDB
import TestSupport
import XCTest
@testable import GatewayCore

/// Issue 20, acceptance 4 with the relay running: the box relays to a real hubd while documents
/// keep arriving, `gatewayd backup` runs beside it, and the restore holds every document
/// acknowledged before the backup began, identical, with the packages and the hub's receipts
/// of those already delivered. On RelayEndToEndTests' rig (hubd, the test PKI).
extension RelayEndToEndTests {
    func testBackupDuringSubmissionAndRelayRestoresWithPackagesAndReceipts() async throws {
        let box = try await startHubAndBox()
        var before: [DocumentID] = []
        for index in 0..<4 { before.append(try await submit(box, randomBytes(20_000), number: "\(index)")) }
        let first = before[0]
        try? await waitUntil(seconds: 60) { [self] in state(box, first) == .delivered }
        XCTAssertEqual(state(box, first), .delivered, log(box.logPath) + log(directory + "/hubd.log"))

        // The backup starts while documents are being submitted and relayed, and they go on
        // arriving until it is done.
        let backupFile = directory + "/box.backup"
        let backup = Process()
        backup.executableURL = URL(fileURLWithPath: RunningDaemon.binary)
        backup.arguments = ["backup", "--out", backupFile, "--data-dir", box.dataDirectory, "--config", box.directory + "/gatewayd.toml"]
        let errors = Pipe()
        backup.standardError = errors
        backup.standardOutput = FileHandle.nullDevice
        try backup.run()
        var during = 0
        while backup.isRunning || during == 0 {
            _ = try await submit(box, randomBytes(20_000), number: "d\(during)")
            during += 1
        }
        backup.waitUntilExit()
        XCTAssertEqual(backup.terminationStatus, 0, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))

        let target = directory + "/restored"
        let restored = box.cli(["restore", backupFile, "--data-dir", target], data: false)
        XCTAssertEqual(restored.status, 0, restored.err)
        let check = box.cli(["store", "check", "--data-dir", target], data: false)
        XCTAssertEqual(check.status, 0, check.out + check.err)

        let source = StoreLayout(dataDirectory: box.dataDirectory), copy = StoreLayout(dataDirectory: target)
        let database = try DatabaseQueue(path: copy.databasePath)
        defer { try? database.close() }
        func read<T>(_ body: (Database) throws -> T) throws -> T { try database.read(body) }  // the blocking read, here
        for id in before {
            // The object restored is the one the box holds, version by version.
            let record = try XCTUnwrap(try read { try DocumentRecord.fetchOne($0, key: id) }, "\(id) missing")
            for version in 0...record.version {
                XCTAssertEqual(try POSIXFile.sha256(ofFile: copy.objectPath(id, version: version)).sha256,
                               try POSIXFile.sha256(ofFile: source.objectPath(id, version: version)).sha256)
            }
            XCTAssertEqual(try POSIXFile.sha256(ofFile: copy.objectPath(id, version: record.version)).sha256, record.sha256)
            // Queued at intake (it arrived signed): its package is there and matches its row.
            if let outbound = try read({ try OutboundRecord.fetchOne($0, key: id.description) }) {
                XCTAssertEqual(try POSIXFile.sha256(ofFile: copy.packagePath(id)).sha256, outbound.packageSHA256)
                if record.state == .delivered { XCTAssertNotNil(outbound.receipt, "\(id): delivered without its receipt") }
            }
        }
        let delivered = try read { try DocumentRecord.fetchOne($0, key: first) }
        XCTAssertEqual(delivered?.state, .delivered)
        XCTAssertNotNil(try read { try OutboundRecord.fetchOne($0, key: first.description) }?.receipt)
        print("backup during relay: \(before.count) documents before, \(during) submitted during the backup")
    }
}
