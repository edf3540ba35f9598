import DocumentModel
import DurableFiles
import Foundation
import TestSupport
import XCTest
@testable import GatewayCore
import TimeJSON

/// `gatewayd backup` beside a running daemon taking submissions, and `gatewayd restore`, as a
/// technician runs them (issue 20).
final class BackupCommandTests: XCTestCase {
    var daemon: RunningDaemon!

    override func setUp() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: RunningDaemon.binary), "needs .build/debug/gatewayd: run `swift build` first")
        daemon = try RunningDaemon(config: "[agency]\ncode = \"000.00.20.H13\"\n[intake]\ndisk_reserve = 0\n")
        try await daemon.waitUntilReady()
    }

    override func tearDown() async throws { daemon?.stop() }

    func submit(_ index: Int) throws -> DocumentID { try Self.submit(index, directory: daemon.directory, dataDirectory: daemon.dataDirectory) }

    /// `gatewayd submit` of a small PDF; static so the submitting task captures only strings.
    static func submit(_ index: Int, directory: String, dataDirectory: String) throws -> DocumentID {
        let path = directory + "/vb-\(index).pdf"
        FileManager.default.createFile(atPath: path, contents: Data(SamplePDF.bytes("văn bản \(index)")))
        let result = runProgram(RunningDaemon.binary, ["submit", path, "--to", "000.00.20.H13", "--subject", "Về việc sao lưu \(index)",
                                                      "--json", "--data-dir", dataDirectory])
        XCTAssertEqual(result.status, 0, result.err)
        return try GatewayJSON.decoder.decode(DocumentView.self, from: Data(result.out.utf8)).document.id
    }

    func testBackupBesideTheRunningDaemonRestoresAndPassesStoreCheck() async throws {
        for index in 0..<5 { _ = try submit(index) }
        let stop = Locked(false)
        let acknowledged = Locked<[DocumentID]>([])
        let directory: String = daemon.directory
        let dataDirectory: String = daemon.dataDirectory
        let submitter = Task.detached {
            var index = 100
            while !stop.withLock({ $0 }) {
                let id = try BackupCommandTests.submit(index, directory: directory, dataDirectory: dataDirectory)
                acknowledged.withLock { $0.append(id) }
                index += 1
            }
        }
        try await waitUntil { acknowledged.withLock { $0.count } >= 2 }
        let before = acknowledged.withLock { $0 }
        let backupFile = daemon.directory + "/hop.backup"
        let backup = daemon.cli(["backup", "--out", backupFile, "--config", daemon.directory + "/gatewayd.toml"])
        stop.withLock { $0 = true }
        try await submitter.value
        XCTAssertEqual(backup.status, 0, backup.err)
        XCTAssertTrue(backup.out.contains("not included (a restore will need re-enrolment)"), backup.out)

        let target = daemon.directory + "/restored"
        let restored = daemon.cli(["restore", backupFile, "--data-dir", target], data: false)
        XCTAssertEqual(restored.status, 0, restored.err)
        XCTAssertTrue(restored.out.contains("re-enrol the box with the hub"), restored.out)
        XCTAssertTrue(restored.out.contains("restored-from.json"), restored.out)
        // The configuration came along, beside this box's own rather than over it.
        let configuration = target + "/restored-files" + daemon.directory + "/gatewayd.toml"
        XCTAssertEqual(try String(contentsOfFile: configuration, encoding: .utf8),
                       try String(contentsOfFile: daemon.directory + "/gatewayd.toml", encoding: .utf8))
        XCTAssertTrue(restored.out.contains("compare it with"), restored.out)
        let check = daemon.cli(["store", "check", "--data-dir", target], data: false)
        XCTAssertEqual(check.status, 0, check.out + check.err)
        let source = StoreLayout(dataDirectory: daemon.dataDirectory), copy = StoreLayout(dataDirectory: target)
        let all = try FileManager.default.contentsOfDirectory(atPath: source.objectsDirectory).compactMap(DocumentID.init)
        XCTAssertGreaterThanOrEqual(all.count, 5 + before.count)
        for id in before {
            XCTAssertEqual(try POSIXFile.sha256(ofFile: copy.objectPath(id, version: 0)).sha256,
                           try POSIXFile.sha256(ofFile: source.objectPath(id, version: 0)).sha256)
        }

        let again = daemon.cli(["restore", backupFile, "--data-dir", target], data: false)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.err.contains("already holds a store; use --force"), again.err)

        var bytes = try Data(contentsOf: URL(fileURLWithPath: backupFile))
        bytes[bytes.count / 2] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: backupFile + ".flipped"))
        let flipped = daemon.cli(["restore", backupFile + ".flipped", "--data-dir", daemon.directory + "/flipped"], data: false)
        XCTAssertEqual(flipped.status, 1)
        XCTAssertTrue(flipped.err.contains("The backup is damaged") || flipped.err.contains("The backup is truncated"), flipped.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: daemon.directory + "/flipped"))

        let intact = daemon.cli(["restore", backupFile, "--verify-only"], data: false)
        XCTAssertEqual(intact.status, 0, intact.err)
        XCTAssertTrue(intact.out.contains("the backup is intact") && intact.out.contains("000.00.20.H13"), intact.out)
        XCTAssertEqual(daemon.cli(["restore", backupFile + ".flipped", "--verify-only"], data: false).status, 1)
        XCTAssertEqual(daemon.cli(["restore", backupFile], data: false).status, 64)  // neither --data-dir nor --verify-only
    }
}
