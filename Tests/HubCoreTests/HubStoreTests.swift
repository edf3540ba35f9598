import Foundation
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
        try DurableFiles.link(layout.package(stray), layout.handoffFile(stray))
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
