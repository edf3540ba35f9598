import DocumentModel
import DurableFiles
import Foundation
import Logging
import TestSupport
import XCTest
@testable import GatewayCore

/// Intake on a small tmpfs that really fills up: refusal before writing below the reserve, a
/// write that hits ENOSPC discarded whole, the store consistent, and intake back by itself once
/// space is freed. Needs root (to mount); `scripts/test` runs as root in CI.
final class DiskFullTests: XCTestCase {
    var mountPoint: String!
    var fixture: StoreFixture!

    override func setUp() async throws {
        try XCTSkipUnless(geteuid() == 0, "needs root to mount a small tmpfs (scripts/test runs the suite as root)")
        mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("gw-tmpfs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = runProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mountPoint])
        if mount.status != 0 {
            try? FileManager.default.removeItem(atPath: mountPoint)
            throw XCTSkip("cannot mount a tmpfs here: \(mount.err)")
        }
        fixture = try StoreFixture(directory: mountPoint, limits: StoreLimits(maximumDocumentSize: 20_000_000, diskReserve: 1_000_000))
    }

    override func tearDown() async throws {
        fixture?.close()
        if let mountPoint {
            runProgram("/bin/umount", [mountPoint])
            try? FileManager.default.removeItem(atPath: mountPoint)
        }
    }

    var free: Int64 { (try? POSIXFile.freeBytes(at: mountPoint)) ?? 0 }
    var fillerPath: String { mountPoint + "/filler" }

    /// Leaves about `bytes` free on the tmpfs.
    func fill(leaving bytes: Int64) throws {
        try? FileManager.default.removeItem(atPath: fillerPath)
        let size = max(0, free - bytes)
        _ = FileManager.default.createFile(atPath: fillerPath, contents: nil)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: fillerPath))
        let chunk = Data(count: 64 * 1024)
        var written: Int64 = 0
        while written < size {
            let part = chunk.prefix(Int(min(Int64(chunk.count), size - written)))
            try handle.write(contentsOf: part)
            written += Int64(part.count)
        }
        try handle.close()
    }

    func integrity() throws -> String {
        try fixture.store.database.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }

    func testRefusalBelowReserveDiscardOnENOSPCAndRecovery() async throws {
        let earlier = try await fixture.submit(randomBytes(10_000), name: "trước.pdf")
        let before = try fixture.snapshot()

        // 1. Below the reserve: refused before a byte is written.
        try fill(leaving: 500_000)
        await assertIntakeError(.insufficientSpace) { try await self.fixture.submit(randomBytes(1000)) }
        do {
            _ = try fixture.store.beginDocument(expectedSize: 10)
            XCTFail("accepted below the reserve")
        } catch {
            XCTAssertTrue(error.messageVi.contains("sắp đầy"), error.messageVi)
            XCTAssertEqual(error.code.httpStatus, 507)
        }
        XCTAssertEqual(try fixture.temporaryFiles(), [])

        // 2. Above the reserve, but the document is bigger than what is left: ENOSPC mid-write.
        try fill(leaving: 3_000_000)
        let staged = try fixture.store.beginDocument(expectedSize: nil)  // size unknown, as with a chunked upload
        var failure: IntakeError?
        for _ in 0..<100 {  // up to 6.4 MB
            do { try staged.append(randomBytes(64 * 1024)) } catch { failure = error; break }
        }
        XCTAssertEqual(failure?.code, .diskFull)
        XCTAssertEqual(try fixture.temporaryFiles(), [], "the partial file must be discarded")
        XCTAssertEqual(try fixture.snapshot(), before)
        XCTAssertEqual(try integrity(), "ok")
        XCTAssertTrue(try fixture.store.check(ownsStore: true).isClean)

        // 3. Space freed: intake works again, and the earlier document is intact.
        try FileManager.default.removeItem(atPath: fillerPath)
        let after = try await fixture.submit(randomBytes(5_000_000), name: "sau.pdf")
        XCTAssertEqual(after.document.size, 5_000_000)
        XCTAssertEqual(try fixture.store.document(earlier.document.id)?.sha256, earlier.document.sha256)
        XCTAssertEqual(try POSIXFile.sha256(ofFile: fixture.layout.objectPath(earlier.document.id, version: 0)).sha256, earlier.document.sha256)
        XCTAssertEqual(try integrity(), "ok")
    }

    func testHotFolderPausesWhenFullAndResumesByItself() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let intake = HotFolderIntake(
            settings: .init(folder: mountPoint + "/outbox", settleDelay: .milliseconds(10), diskRetryInterval: .milliseconds(200),
                            parser: MetadataParser(defaultRecipients: [AgencyCode("000.00.20.H13")!])),
            store: fixture.store, logger: logger)
        try FileManager.default.createDirectory(atPath: mountPoint + "/outbox", withIntermediateDirectories: true)
        try fill(leaving: 600_000)
        let service = Task { try await intake.run() }
        defer { service.cancel() }
        let name = "Công văn khẩn.pdf"
        _ = FileManager.default.createFile(atPath: mountPoint + "/outbox/.tmp", contents: Data(SamplePDF.bytes(padding: randomBytes(20_000))))
        XCTAssertEqual(rename(mountPoint + "/outbox/.tmp", mountPoint + "/outbox/" + name), 0)
        try await waitUntil { intake.snapshot.pausedForSpace }
        XCTAssertEqual(intake.snapshot.lastRefusal, "insufficient_space")
        XCTAssertTrue(FileManager.default.fileExists(atPath: mountPoint + "/outbox/" + name), "a file refused for space stays where it is")
        XCTAssertFalse(FileManager.default.fileExists(atPath: mountPoint + "/outbox/rejected/" + name))
        XCTAssertEqual(try fixture.store.list().count, 0)

        try FileManager.default.removeItem(atPath: fillerPath)
        try await waitUntil { !FileManager.default.fileExists(atPath: self.mountPoint + "/outbox/" + name) }
        XCTAssertEqual(try fixture.store.list().map(\.fileName), [name])
        try await waitUntil { !intake.snapshot.pausedForSpace }
    }
}
