import Foundation
import XCTest
@testable import DocumentSigning

/// ByteSearch against Foundation's generic search, the slow way it replaced, on random bytes from a
/// small alphabet (so that partial matches are common).
final class UnitByteSearchTests: XCTestCase {
    func testFindsWhatFoundationFinds() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let haystack = (0..<Int.random(in: 0...200, using: &generator)).map { _ in UInt8.random(in: 0...3, using: &generator) }
            let needle = (0..<Int.random(in: 1...4, using: &generator)).map { _ in UInt8.random(in: 0...3, using: &generator) }
            XCTAssertEqual(ByteSearch.first(needle, in: haystack), haystack.firstRange(of: needle), "\(needle) in \(haystack)")
            let last = haystack.indices.reversed().first { haystack[$0...].starts(with: needle) }
            XCTAssertEqual(ByteSearch.last(needle, in: haystack), last.map { $0..<$0 + needle.count }, "\(needle) in \(haystack)")
        }
    }

    func testKeywordsOfAPDF() {
        let bytes = Array("junk%PDF-1.7\n1 0 obj\nstream\nendstream\nstartxref\n9\n%%EOF\nstartxref 1".utf8)
        XCTAssertEqual(ByteSearch.first(Array("%PDF-".utf8), in: bytes), 4..<9)
        XCTAssertEqual(ByteSearch.first(Array("endstream".utf8), in: bytes), 28..<37)
        XCTAssertEqual(ByteSearch.last(Array("startxref".utf8), in: bytes), 56..<65)
        XCTAssertNil(ByteSearch.first(Array("xref 2".utf8), in: bytes))
        XCTAssertNil(ByteSearch.first(Array("%PDF-".utf8), in: []))
    }
}
