import DurableFiles
import Foundation
import GRDB
import Logging
import XCTest
@testable import HubCore

/// The store against a real file system: recovery at start, and a second commit under the same key.
final class HubStoreTests: XCTestCase {
    var directory: String!

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hubstore-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func open() throws -> HubStore {
        try HubStore(dataDirectory: directory + "/data", handoffDirectory: directory + "/handoff",
                     agencies: [.init(code: "000.00.20.H13", name: "UBND xã Hòa Tiến", served: true)], logger: Logger(label: "test"))
    }

    func write(_ path: String, _ text: String) { FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) }

    func temporaryPackage(_ store: HubStore, _ text: String) -> String {
        let path = store.newTemporaryPath()
        write(path, text)
        return path
    }

    let summary = PackageSummary(kind: .document, key: "000.00.20.H13,2026/11/21,1/UBND", from: "000.00.20.H13", recipients: ["000.00.00.H41"])

    /// A package acknowledged to a box must survive a power cut: the writer, the connection that
    /// commits, syncs the WAL at every commit (GRDB's pool would leave it at NORMAL: DurableDatabase).
    func testTheWriterCommitsWithFullSync() throws {
        let store = try open()
        let (mode, sync) = try store.database.writeWithoutTransaction { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        XCTAssertEqual(mode, "wal")
        XCTAssertEqual(sync, 2)  // FULL
    }

    func testFilesWithoutRowsAreMovedAsideAtStartAndCommittedOnesStay() async throws {
        var store: HubStore? = try open()
        let committed = try await store!.commit(temporaryPath: temporaryPackage(store!, "gói"), summary: summary, sha256: "aa", size: 4,
                                                submittedBy: "000.00.20.H13", receivedAt: Date(), receipt: [1, 2, 3],
                                                routing: Routing(communes: [], handOff: true))
        XCTAssertFalse(committed.duplicate)
        let layout = store!.layout
        // What a crash between rename and commit leaves, and a body being received.
        let stray = UUID().uuidString.lowercased() + ".edxml"
        write(layout.package(stray), "không có dòng")
        try POSIXFile.link(layout.package(stray), layout.handoffFile(stray))
        write(layout.handoff + "/đọc-tôi.txt", "the document system's own file")
        write(layout.temporary + "/x.part", "partial")
        store = nil

        store = try open()
        let orphans = try FileManager.default.contentsOfDirectory(atPath: layout.orphans).sorted()
        XCTAssertEqual(orphans, [stray, "handoff-" + stray].sorted())
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: layout.temporary), [])
        let handoff = try FileManager.default.contentsOfDirectory(atPath: layout.handoff).sorted()
        XCTAssertEqual(handoff.count, 2, "the committed package and the document system's own file stay")
        XCTAssertTrue(handoff.contains("đọc-tôi.txt"))
        let waiting = try await store!.handoff()
        XCTAssertEqual(waiting.map(\.key), [summary.key])
    }

    /// tus expiration: an upload silent for longer than the limit goes with its bytes; one still
    /// receiving stays; a finished upload's row goes after the same time, never its package.
    func testSilentUploadsExpireWithTheirBytes() async throws {
        var store: HubStore? = try open()
        let now = Date()
        let silent = try await store!.createUpload(owner: "000.00.20.H13", length: 100, metadata: [:], at: now.addingTimeInterval(-9 * 86400))
        let active = try await store!.createUpload(owner: "000.00.20.H13", length: 100, metadata: [:], at: now.addingTimeInterval(-9 * 86400))
        let fresh = try await store!.createUpload(owner: "000.00.20.H13", length: 100, metadata: [:], at: now)
        let finished = try await store!.createUpload(owner: "000.00.20.H13", length: 4, metadata: [:], at: now.addingTimeInterval(-9 * 86400))
        let layout = store!.layout
        write(layout.upload(silent), "forty bytes of a package nobody finished")
        write(layout.upload(active), "still coming")
        // The silent one last received bytes 8 days ago; the active one a minute ago.
        var times = [timespec(tv_sec: Int(now.timeIntervalSince1970) - 8 * 86400, tv_nsec: 0),
                     timespec(tv_sec: Int(now.timeIntervalSince1970) - 8 * 86400, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, layout.upload(silent), &times, 0), 0)
        let package = try await store!.commit(temporaryPath: temporaryPackage(store!, "gói"), summary: summary, sha256: "aa", size: 4,
                                              submittedBy: "000.00.20.H13", receivedAt: now, receipt: [1], routing: Routing(communes: [], handOff: true))
        try await store!.finishUpload(id: finished, packageID: package.id, refusal: nil)
        XCTAssertEqual(store!.lastActivity(ofUpload: silent)?.timeIntervalSince1970 ?? 0, now.timeIntervalSince1970 - 8 * 86400, accuracy: 1)

        let (count, bytes) = try await store!.expireUploads(before: now.addingTimeInterval(-7 * 86400))
        XCTAssertEqual(count, 2, "the silent upload and the finished one's row")
        XCTAssertEqual(bytes, 40)
        XCTAssertFalse(FileManager.default.fileExists(atPath: layout.upload(silent)))
        for gone in [silent, finished] {
            do {
                _ = try await store!.upload(id: gone, owner: "000.00.20.H13")
                XCTFail("\(gone) should be gone")
            } catch let error as HubError {
                XCTAssertEqual(error.code, .notFound)
            }
        }
        for kept in [active, fresh] { _ = try await store!.upload(id: kept, owner: "000.00.20.H13") }
        XCTAssertTrue(FileManager.default.fileExists(atPath: layout.upload(active)))
        let handedOff = try await store!.handoff()
        XCTAssertEqual(handedOff.map(\.key), [summary.key], "the finished upload's package stays")

        // A part file left without its row (a crash between the expiry's commit and the unlink)
        // is removed at the next start.
        let stray = layout.upload(UUID().uuidString.lowercased())
        write(stray, "left behind")
        store = nil
        store = try open()
        XCTAssertFalse(FileManager.default.fileExists(atPath: stray))
        XCTAssertTrue(FileManager.default.fileExists(atPath: layout.upload(active)))
    }

    /// A box's quota of unfinished uploads (issue 16) counts only its own open ones: full, it is
    /// refused (and no part file is left); another box is not; once its silent uploads expire it
    /// may upload again.
    func testTheUploadQuotaCountsABoxsOpenUploadsAndFreesWhenTheyExpire() async throws {
        let store = try open()
        let quota = HubStore.UploadTotals(uploads: 2, bytes: 1000)
        let old = Date().addingTimeInterval(-8 * 86400)
        // Silent for eight days: created then, and their (empty) part files untouched since.
        var times = [timespec(tv_sec: Int(old.timeIntervalSince1970), tv_nsec: 0), timespec(tv_sec: Int(old.timeIntervalSince1970), tv_nsec: 0)]
        for _ in 0..<2 {
            let id = try await store.createUpload(owner: "000.00.20.H13", length: 400, metadata: [:], at: old, quota: quota)
            XCTAssertEqual(utimensat(AT_FDCWD, store.layout.upload(id), &times, 0), 0)
        }
        let partFiles = { (try? FileManager.default.contentsOfDirectory(atPath: store.layout.uploads).count) ?? -1 }
        let before = partFiles()
        do {
            _ = try await store.createUpload(owner: "000.00.20.H13", length: 1, metadata: [:], at: Date(), quota: quota)
            XCTFail("a third upload is past the quota")
        } catch let reached as HubStore.UploadQuotaReached {
            XCTAssertEqual(reached.held, HubStore.UploadTotals(uploads: 2, bytes: 800))
        }
        XCTAssertEqual(partFiles(), before, "a refused upload leaves no part file")
        _ = try await store.createUpload(owner: "000.00.20.H14", length: 1000, metadata: [:], at: Date(), quota: quota)

        _ = try await store.expireUploads(before: Date().addingTimeInterval(-7 * 86400))
        let held = try await store.openUploads(owner: "000.00.20.H13")
        XCTAssertEqual(held, HubStore.UploadTotals(uploads: 0, bytes: 0))
        _ = try await store.createUpload(owner: "000.00.20.H13", length: 1000, metadata: [:], at: Date(), quota: quota)
    }

    func testASecondCommitUnderTheSameKeyReturnsTheFirstAndLeavesNoFile() async throws {
        let store = try open()
        let first = try await store.commit(temporaryPath: temporaryPackage(store, "một"), summary: summary, sha256: "aa", size: 4,
                                           submittedBy: "000.00.20.H13", receivedAt: Date(), receipt: [1], routing: Routing(communes: ["000.00.20.H13"], handOff: false))
        let second = try await store.commit(temporaryPath: temporaryPackage(store, "một"), summary: summary, sha256: "aa", size: 4,
                                            submittedBy: "000.00.20.H13", receivedAt: Date(), receipt: [9], routing: Routing(communes: ["000.00.20.H13"], handOff: false))
        XCTAssertTrue(second.duplicate)
        XCTAssertEqual(second.id, first.id)
        XCTAssertEqual(second.receipt, [1], "the first receipt, not a new one")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.layout.packages).count, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.layout.temporary), [])
        let inbox = try await store.inbox(commune: "000.00.20.H13")
        XCTAssertEqual(inbox.count, 1)
        // The same DocumentId from another sender is another package: keys are scoped by sender.
        var other = summary
        other.from = "000.00.20.H14"
        let third = try await store.commit(temporaryPath: temporaryPackage(store, "khác"), summary: other, sha256: "bb", size: 6,
                                           submittedBy: "000.00.20.H14", receivedAt: Date(), receipt: [7], routing: Routing(communes: [], handOff: true))
        XCTAssertFalse(third.duplicate)
        XCTAssertNotEqual(third.id, first.id)
    }
}
