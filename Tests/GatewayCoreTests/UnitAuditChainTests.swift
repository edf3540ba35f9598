import DocumentModel
import XCTest
@testable import GatewayCore

/// The audit chain's encoding and walk, on lines in memory (no store): a known vector computed
/// independently (Python's hashlib over the documented encoding), and each kind of damage.
final class UnitAuditChainTests: XCTestCase {
    static let document = "01JEXAMPLE0000000000000000"
    static let first = AuditChain.Entry(seq: 1, documentId: document, fromState: nil, toState: "received",
                                        at: "2026-12-05 08:00:00.000", cause: "thư mục 'QĐ-12.pdf'")
    static let second = AuditChain.Entry(seq: 2, documentId: document, fromState: "received", toState: "awaiting_leader",
                                         at: "2026-12-05 08:00:00.000", cause: "waiting for the leader's signature")
    static let firstHash = "ab97bbf77baf24ac6acfb14996126dc1094e756efa22cab893c796f51fca3d36"
    static let secondHash = "88ef8eeb8002ba41b4216abc93d661ac178dda826b5c6cb4c268b7d3d40d988b"

    func testKnownVector() {
        XCTAssertEqual(AuditChain.hash(Self.first, previous: AuditChain.genesis), Self.firstHash)
        XCTAssertEqual(AuditChain.hash(Self.second, previous: Self.firstHash), Self.secondHash)
    }

    /// Lengths, not separators: moving bytes from one field to the next changes the hash, and an
    /// absent from-state is not the empty one.
    func testEncodingIsUnambiguous() {
        var shifted = Self.second
        (shifted.toState, shifted.at) = ("awaiting_leader2", "026-12-05 08:00:00.000")
        XCTAssertNotEqual(AuditChain.hash(shifted, previous: Self.firstHash), Self.secondHash)
        var empty = Self.first
        empty.fromState = ""
        XCTAssertNotEqual(AuditChain.hash(empty, previous: AuditChain.genesis), Self.firstHash)
        XCTAssertEqual(Array(AuditChain.encoding(Self.first, previous: AuditChain.genesis).prefix(20)), [0, 0, 0, 16] + Array("gatewayd-audit/1".utf8))
    }

    func testAnIntactChainWalksToItsHead() {
        var walk = AuditChain.Walk()
        XCTAssertNil(walk.next(Self.first, previousHash: AuditChain.genesis, hash: Self.firstHash))
        XCTAssertNil(walk.next(Self.second, previousHash: Self.firstHash, hash: Self.secondHash))
        XCTAssertEqual(walk.head, AuditAnchor(entry: 2, sha256: Self.secondHash))
        XCTAssertEqual(walk.count, 2)
    }

    func testEachKindOfDamageIsNamed() {
        var edited = AuditChain.Walk()
        var changed = Self.first
        changed.cause = "sửa tay"
        XCTAssertEqual(edited.next(changed, previousHash: AuditChain.genesis, hash: Self.firstHash), .altered)

        var deleted = AuditChain.Walk()  // the first line gone: the second no longer follows the start
        XCTAssertEqual(deleted.next(Self.second, previousHash: Self.firstHash, hash: Self.secondHash), .brokenLink(previousSeq: nil))

        var moved = AuditChain.Walk()
        XCTAssertNil(moved.next(Self.first, previousHash: AuditChain.genesis, hash: Self.firstHash))
        XCTAssertEqual(moved.next(Self.first, previousHash: AuditChain.genesis, hash: Self.firstHash), .brokenLink(previousSeq: 1))

        var unchained = AuditChain.Walk()
        XCTAssertEqual(unchained.next(Self.first, previousHash: nil, hash: nil), .unchained)
        XCTAssertNil(unchained.head)
        XCTAssertTrue(AuditChain.Problem.brokenLink(previousSeq: 7).vietnamese.contains("số 7"))
        XCTAssertTrue(AuditChain.Problem.altered.english.contains("changed"))
    }

    /// The anchor's wire form: a round trip, and every truncation or decoration refused.
    func testAnchorWireFormIsStrict() throws {
        let wire = "42:" + Self.secondHash
        let anchor = try XCTUnwrap(AuditAnchor(wire: wire))
        XCTAssertEqual(anchor.entry, 42)
        XCTAssertEqual(anchor.wire, wire)
        for count in 0..<wire.count { XCTAssertNil(AuditAnchor(wire: String(wire.prefix(count))), "prefix \(count)") }
        for bad in ["042:" + Self.secondHash, "0:" + Self.secondHash, "-1:" + Self.secondHash, "+1:" + Self.secondHash,
                    "1:" + Self.secondHash.uppercased(), "1:" + Self.secondHash + "0", " 1:" + Self.secondHash,
                    "1:" + Self.secondHash + ":", "9999999999999999999:" + Self.secondHash] {
            XCTAssertNil(AuditAnchor(wire: bad), bad)
        }
        let json = try JSONEncoder().encode(anchor)
        XCTAssertEqual(try JSONDecoder().decode(AuditAnchor.self, from: json), anchor)
        XCTAssertThrowsError(try JSONDecoder().decode(AuditAnchor.self, from: Data(#"{"entry":1,"sha256":"ab"}"#.utf8)))
    }
}
