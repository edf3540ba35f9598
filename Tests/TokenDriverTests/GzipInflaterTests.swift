import Foundation
import TestSupport
import XCTest
@testable import TokenDriver

/// gzip-compressed PIV certificates: made by the system's `gzip`, inflated by us.
final class GzipInflaterTests: XCTestCase {
    func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gz-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path + ".gz") }
        let result = runProgram("/bin/gzip", ["-9", path])
        try XCTSkipIf(result.status != 0, "needs gzip: \(result.err)")
        return Array(try Data(contentsOf: URL(fileURLWithPath: path + ".gz")))
    }

    func testRoundTripAndEveryTruncation() throws {
        let certificate = (0..<3000).map { UInt8(truncatingIfNeeded: $0 * 7 % 251) }
        let compressed = try gzip(certificate)
        XCTAssertEqual(try GzipInflater.inflate(compressed, limit: 16 * 1024), certificate)
        for cut in 0..<compressed.count {
            XCTAssertThrowsError(try GzipInflater.inflate(Array(compressed.prefix(cut)), limit: 16 * 1024), "cut at \(cut)")
        }
    }

    func testCorruptionAndBombsAreErrors() throws {
        var compressed = try gzip(Array("Chứng thư số của Nguyễn Văn An".utf8))
        compressed[compressed.count - 6] ^= 0xFF  // the CRC-32 in the trailer
        XCTAssertThrowsError(try GzipInflater.inflate(compressed, limit: 1024)) {
            guard case .corrupt = $0 as? GzipInflater.Failure else { return XCTFail("\($0)") }
        }
        let bomb = try gzip(Array(repeating: 0, count: 1 << 20))
        XCTAssertThrowsError(try GzipInflater.inflate(bomb, limit: 16 * 1024)) {
            XCTAssertEqual($0 as? GzipInflater.Failure, .tooLarge(limit: 16 * 1024))
        }
        XCTAssertThrowsError(try GzipInflater.inflate(Array("not gzip".utf8), limit: 1024))
    }
}
