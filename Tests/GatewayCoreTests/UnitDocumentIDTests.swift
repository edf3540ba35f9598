import Foundation
import XCTest
@testable import GatewayCore

/// UUIDv7 document ids (RFC 9562 §5.7) and their generator.
final class UnitDocumentIDTests: XCTestCase {
    private func bytes(_ id: DocumentID) -> [UInt8] {
        withUnsafeBytes(of: id.uuid.uuid) { Array($0) }
    }

    func testVersionNibbleIsSevenAndVariantIsRFC() {
        var generator = DocumentIDGenerator()
        // Randomness with every bit set and with none set: the fixed bits must win either way.
        for random in [UInt64.max, 0, 0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210] {
            let id = generator.next(unixMilliseconds: 1_763_712_000_000 + random % 1000, random: random)
            let b = bytes(id)
            XCTAssertEqual(b[6] >> 4, 0x7, "version nibble of \(id)")
            XCTAssertEqual(b[8] & 0xC0, 0x80, "variant bits of \(id)")
            let text = id.description
            XCTAssertEqual(Array(text)[14], "7", text)
            XCTAssertTrue("89ab".contains(Array(text)[19]), text)
        }
    }

    func testEmbeddedMillisecondsEqualTheTimeGiven() {
        var generator = DocumentIDGenerator()
        let times: [UInt64] = [1, 1_000, 1_763_712_000_123, 0xFFFF_FFFF_FFFF]  // up to the 48-bit maximum
        for time in times {
            let id = generator.next(unixMilliseconds: time, random: 0xDEAD_BEEF_CAFE_F00D)
            XCTAssertEqual(id.unixMilliseconds, time)
        }
        // The first six bytes are the big-endian milliseconds.
        var fresh = DocumentIDGenerator()
        let id = fresh.next(unixMilliseconds: 0x0102_0304_0506, random: 0)
        XCTAssertEqual(Array(bytes(id).prefix(6)), [0x01, 0x02, 0x03, 0x04, 0x05, 0x06])
        XCTAssertTrue(id.description.hasPrefix("01020304-0506-7"), id.description)
    }

    func testTenThousandIdsInOneMillisecondStrictlyIncrease() {
        var generator = DocumentIDGenerator()
        let now: UInt64 = 1_763_712_000_000
        var previous = generator.next(unixMilliseconds: now, random: UInt64.max)  // highest seed: least headroom
        XCTAssertEqual(previous.unixMilliseconds, now)
        var seen: Set<DocumentID> = [previous]
        var state = UInt64(0x9E37_79B9_7F4A_7C15)
        for index in 1..<10_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let id = generator.next(unixMilliseconds: now, random: state)
            XCTAssertLessThan(previous, id, "id \(index) does not sort after the one before")
            XCTAssertLessThan(previous.description, id.description, "text order differs at \(index)")
            XCTAssertGreaterThanOrEqual(id.unixMilliseconds, now)
            XCTAssertEqual(bytes(id)[6] >> 4, 0x7)
            XCTAssertEqual(bytes(id)[8] & 0xC0, 0x80)
            seen.insert(id)
            previous = id
        }
        XCTAssertEqual(seen.count, 10_000)
        // 4096 values of the 12-bit counter at most per millisecond: borrowing time is bounded.
        XCTAssertLessThanOrEqual(previous.unixMilliseconds, now + 10)
    }

    func testClockGoingBackwardsStillYieldsIncreasingIds() {
        var generator = DocumentIDGenerator()
        let start: UInt64 = 1_763_712_000_500
        let first = generator.next(unixMilliseconds: start, random: 42)
        let earlier = generator.next(unixMilliseconds: start - 400, random: 7)
        let muchEarlier = generator.next(unixMilliseconds: 1, random: 0)
        XCTAssertLessThan(first, earlier)
        XCTAssertLessThan(earlier, muchEarlier)
        // While the clock is behind, the ids keep the last time seen, never the earlier one.
        XCTAssertEqual(earlier.unixMilliseconds, start)
        XCTAssertEqual(muchEarlier.unixMilliseconds, start)
        // The clock comes back ahead: the new time is used and order still holds.
        let later = generator.next(unixMilliseconds: start + 1, random: UInt64.max)
        XCTAssertLessThan(muchEarlier, later)
        XCTAssertEqual(later.unixMilliseconds, start + 1)
    }

    func testTextRoundTrip() throws {
        var generator = DocumentIDGenerator()
        let id = generator.next(unixMilliseconds: 1_763_712_000_000, random: 0xABCD_EF01_2345_6789)
        let text = id.description
        XCTAssertEqual(text.count, 36)
        XCTAssertEqual(text, text.lowercased())
        let parsed = try XCTUnwrap(DocumentID(text))
        XCTAssertEqual(parsed, id)
        XCTAssertEqual(parsed.unixMilliseconds, 1_763_712_000_000)
        XCTAssertEqual(DocumentID(text.uppercased()), id)
    }

    func testKnownTextParses() throws {
        let id = try XCTUnwrap(DocumentID("019a8f0c-7d3e-7b21-9c4d-2f6a1b0e9d11"))
        XCTAssertEqual(id.description, "019a8f0c-7d3e-7b21-9c4d-2f6a1b0e9d11")
        XCTAssertEqual(id.unixMilliseconds, 0x019a_8f0c_7d3e)
    }

    func testMalformedTextIsRefused() {
        XCTAssertNil(DocumentID(""))
        XCTAssertNil(DocumentID("not-a-uuid"))
        XCTAssertNil(DocumentID("019a8f0c-7d3e-7b21-9c4d-2f6a1b0e9d1"))    // one digit short
        XCTAssertNil(DocumentID("019a8f0c-7d3e-7b21-9c4d-2f6a1b0e9d11x"))  // one too many
        XCTAssertNil(DocumentID("019a8f0c7d3e7b219c4d2f6a1b0e9d11"))       // no dashes
    }

    func testCodableUsesLowercaseText() throws {
        let id = try XCTUnwrap(DocumentID("019A8F0C-7D3E-7B21-9C4D-2F6A1B0E9D11"))
        let data = try JSONEncoder().encode([id])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "[\"019a8f0c-7d3e-7b21-9c4d-2f6a1b0e9d11\"]")
        XCTAssertEqual(try JSONDecoder().decode([DocumentID].self, from: data), [id])
        XCTAssertThrowsError(try JSONDecoder().decode([DocumentID].self, from: Data("[\"nope\"]".utf8)))
    }
}
