import XCTest
@testable import TokenDriver

final class TLVTests: XCTestCase {
    /// A PIV certificate container (SP 800-73-4 Part 1, Table 15): 53 { 70 cert, 71 CertInfo, FE LRC }.
    func testKnownVectorOfAPIVCertificateObject() throws {
        let certificate = Array(repeating: UInt8(0x30), count: 300)
        let bytes: [UInt8] = [0x53, 0x82, 0x01, 0x35, 0x70, 0x82, 0x01, 0x2C] + certificate + [0x71, 0x01, 0x00, 0xFE, 0x00]
        let outer = try TLV.parseAll(bytes)
        XCTAssertEqual(outer.count, 1)
        XCTAssertEqual(outer[0].tag, [0x53])
        let inner = try outer[0].children()
        XCTAssertEqual(inner.map(\.tag), [[0x70], [0x71], [0xFE]])
        XCTAssertEqual(inner.first(tag: 0x70)?.value, certificate)
        XCTAssertEqual(inner.first(tag: 0x71)?.value, [0x00])
        XCTAssertEqual(outer[0].encoded, bytes)
    }

    func testMultiByteTagsAndLengthForms() throws {
        XCTAssertEqual(try TLV.parseAll([0x5F, 0xC1, 0x05, 0x01, 0xAA]), [TLV(tag: [0x5F, 0xC1, 0x05], value: [0xAA])])
        XCTAssertEqual(try TLV.parseAll([0x7F, 0x49, 0x00]), [TLV(tag: [0x7F, 0x49], value: [])])
        XCTAssertEqual(try TLV.parseAll([0x04, 0x81, 0x02, 1, 2]), [TLV(tag: 0x04, value: [1, 2])])
        XCTAssertEqual(TLV(tag: 0x04, value: Array(repeating: 0, count: 200)).encoded.prefix(3), [0x04, 0x81, 200])
        XCTAssertEqual(TLV(tag: 0x04, value: Array(repeating: 0, count: 70_000)).encoded.prefix(5), [0x04, 0x83, 0x01, 0x11, 0x70])
        XCTAssertTrue(TLV(tag: 0x7C, value: []).isConstructed)
        XCTAssertFalse(TLV(tag: 0x82, value: []).isConstructed)
    }

    func testMalformedInputsAreNamedErrors() {
        XCTAssertThrowsError(try TLV.parseAll([0x5F])) { XCTAssertEqual($0 as? TLV.ParseError, .truncatedTag(offset: 1)) }
        XCTAssertThrowsError(try TLV.parseAll([0x5F, 0x81, 0x82, 0x83, 0x04, 0x00])) { XCTAssertEqual($0 as? TLV.ParseError, .tagTooLong(offset: 0)) }
        XCTAssertThrowsError(try TLV.parseAll([0x04])) { XCTAssertEqual($0 as? TLV.ParseError, .truncatedLength(offset: 1)) }
        XCTAssertThrowsError(try TLV.parseAll([0x04, 0x80, 0x00, 0x00])) { XCTAssertEqual($0 as? TLV.ParseError, .indefiniteLength(offset: 1)) }
        XCTAssertThrowsError(try TLV.parseAll([0x04, 0x84, 0, 0, 0, 1, 0])) { XCTAssertEqual($0 as? TLV.ParseError, .lengthTooLong(offset: 1)) }
        XCTAssertThrowsError(try TLV.parseAll([0x04, 0x82, 0x01])) { XCTAssertEqual($0 as? TLV.ParseError, .truncatedLength(offset: 2)) }
        XCTAssertThrowsError(try TLV.parseAll([0x04, 0x03, 1, 2])) { XCTAssertEqual($0 as? TLV.ParseError, .truncatedValue(offset: 2, needed: 3, available: 2)) }
    }

    func testEveryTruncationOfANestedObjectIsRejected() throws {
        let nested = TLV(tag: 0x7C, value: TLV(tag: 0x82, value: []).encoded + TLV(tag: 0x81, value: Array(repeating: 5, count: 300)).encoded)
        let bytes = TLV(tag: 0x53, value: nested.encoded + TLV(tag: [0x5F, 0xC1, 0x02], value: [1, 2, 3]).encoded).encoded
        XCTAssertEqual(try TLV.parseAll(bytes).first?.encoded, bytes)
        for cut in 1..<bytes.count {
            XCTAssertThrowsError(try TLV.parseAll(Array(bytes.prefix(cut))), "prefix \(cut) accepted")
        }
    }

    func testRandomRoundTrips() throws {
        for _ in 0..<2000 {
            let items = (0..<Int.random(in: 1...4)).map { _ in
                TLV(tag: Bool.random() ? [UInt8.random(in: 0...0x1E)] : [0x5F, UInt8.random(in: 0x80...0xFF), UInt8.random(in: 0...0x7F)],
                    value: (0..<Int.random(in: 0...400)).map { _ in UInt8.random(in: 0...255) })
            }
            let bytes = items.flatMap(\.encoded)
            XCTAssertEqual(try TLV.parseAll(bytes), items)
        }
    }

    /// Randomised robustness run: random and mutated inputs must give a value or a ParseError,
    /// never a crash or a hang. The count is printed for the test notes.
    func testRandomisedInputsNeverCrash() {
        let seedObject = TLV(tag: 0x53, value: TLV(tag: 0x70, value: Array(repeating: 0x30, count: 64)).encoded + [0x71, 0x01, 0x00]).encoded
        var executions = 0, accepted = 0
        for round in 0..<200_000 {
            var input: [UInt8]
            if round % 2 == 0 {
                input = (0..<Int.random(in: 0...48)).map { _ in UInt8.random(in: 0...255) }
            } else {
                input = seedObject
                for _ in 0..<Int.random(in: 1...4) {
                    let index = Int.random(in: 0..<input.count)
                    switch Int.random(in: 0...2) {
                    case 0: input[index] = UInt8.random(in: 0...255)
                    case 1: input.remove(at: index)
                    default: input.insert(UInt8.random(in: 0...255), at: index)
                    }
                    if input.isEmpty { break }
                }
            }
            if let items = try? TLV.parseAll(input) {
                accepted += 1
                XCTAssertEqual(try? TLV.parseAll(items.flatMap(\.encoded)), items)  // what parses, re-encodes to the same
                for item in items where item.isConstructed { _ = try? item.children() }
            }
            _ = try? CommandAPDU(wireBytes: input)
            _ = try? ResponseAPDU(wireBytes: input)
            executions += 1
        }
        print("TLV/APDU randomised run: \(executions) executions, \(accepted) inputs parsed, 0 crashes")
        XCTAssertEqual(executions, 200_000)
    }
}
