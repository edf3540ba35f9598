@testable import EdXML
import Foundation
import XCTest

/// The pure pieces: base64 in pieces, the placeholder filter, dates, status codes, file names.
final class CodecTests: XCTestCase {
    private func decode(_ text: String, pieces: Int = 1) throws -> [UInt8] {
        var decoder = Base64Decoder()
        var output: [UInt8] = []
        let bytes = Array(text.utf8)
        let size = max(1, (bytes.count + pieces - 1) / pieces)
        for start in stride(from: 0, to: bytes.count, by: size) {
            try Array(bytes[start..<min(bytes.count, start + size)]).withUnsafeBytes { raw throws in
                do { try decoder.decode(raw, into: &output) } catch { throw error }
            }
        }
        try decoder.finish()
        return output
    }

    func testBase64KnownVectorsRFC4648() throws {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            XCTAssertEqual(try decode(encoded), Array(plain.utf8))
            var encoder = Base64Encoder()
            var output: [UInt8] = []
            Array(plain.utf8).withUnsafeBytes { encoder.encode($0, into: &output) }
            encoder.finish(into: &output)
            XCTAssertEqual(String(decoding: output, as: UTF8.self), encoded)
        }
        XCTAssertEqual(try decode("Zm9v\r\nYmFy\n", pieces: 5), Array("foobar".utf8))
    }

    func testBase64RoundTripInAnyPieces() throws {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 3, 4, 5, 100, 1000, 4099] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var encoder = Base64Encoder()
            var text: [UInt8] = []
            for piece in stride(from: 0, to: length, by: 7) {
                Array(bytes[piece..<min(length, piece + 7)]).withUnsafeBytes { encoder.encode($0, into: &text) }
            }
            encoder.finish(into: &text)
            XCTAssertEqual(String(decoding: text, as: UTF8.self), Data(bytes).base64EncodedString())
            XCTAssertEqual(try decode(String(decoding: text, as: UTF8.self), pieces: 13), bytes)
        }
    }

    func testBase64RefusesBadInputAndEveryTruncation() {
        for bad in ["Zm9v$", "Zm=9", "Zg==Zg==", "Z===", "Zm9vY"] {
            XCTAssertThrowsError(try decode(bad), bad)
        }
        let full = "Zm9vYmFyYmF6"
        for length in 1..<full.count where length % 4 != 0 {
            XCTAssertThrowsError(try decode(String(full.prefix(length))), "prefix \(length)")
        }
    }

    func testPlaceholderFilterReplacesTokensSplitAnywhere() throws {
        let placeholders = Placeholders()
        let text = "<a>" + placeholders.token(0) + "</a><b>" + placeholders.token(12) + "</b>EDXMLATTACHMENT-not-a-token"
        let bytes = Array(text.utf8)
        for piece in [1, 2, 3, 7, 50, bytes.count] {
            var output: [UInt8] = []
            let collector = Collector()
            var filter = PlaceholderFilter(placeholders: placeholders, sink: { collector.bytes += $0 }, expand: { collector.bytes += Array("[\($0)]".utf8) })
            for start in stride(from: 0, to: bytes.count, by: piece) {
                try Array(bytes[start..<min(bytes.count, start + piece)]).withUnsafeBytes { try filter.write($0) }
            }
            try filter.finish()
            output = collector.bytes
            XCTAssertEqual(String(decoding: output, as: UTF8.self), "<a>[0]</a><b>[12]</b>EDXMLATTACHMENT-not-a-token", "pieces of \(piece)")
        }
    }

    final class Collector { var bytes: [UInt8] = [] }

    func testDatesAndTimestamps() {
        XCTAssertEqual(EdXMLDate("2024/02/29")?.description, "2024/02/29")
        XCTAssertNil(EdXMLDate("2023/02/29"))
        XCTAssertNil(EdXMLDate("2023-02-01"))
        XCTAssertNil(EdXMLDate("2023/2/01"))
        XCTAssertEqual(EdXMLTimestamp("2015/09/30 14:05:00")?.description, "2015/09/30 14:05:00")
        XCTAssertNil(EdXMLTimestamp("2015/09/30 24:05:00"))
        // Vietnam is UTC+7: 20:00 UTC on the 31st is already the 1st there.
        XCTAssertEqual(EdXMLDate(Date(timeIntervalSince1970: 1_704_052_800)).description, "2024/01/01")
    }

    func testStatusCodesAreAnOpenSetOfTwoDigits() {
        XCTAssertEqual(StatusCode(rawValue: "01"), .arrived)
        XCTAssertEqual(StatusCode(rawValue: "77")?.name, nil)
        XCTAssertNil(StatusCode(rawValue: "1"))
        XCTAssertNil(StatusCode(rawValue: "0A"))
        XCTAssertNil(StatusCode(rawValue: "١٢"))  // Arabic-Indic digits are not ASCII digits
    }

    func testUnpackedNamesStayInsideTheDirectory() {
        XCTAssertEqual(PackageReader.safeFileName("../../etc/passwd", fallback: "x"), "_.._etc_passwd")
        XCTAssertEqual(PackageReader.safeFileName("..", fallback: "x"), "x")
        XCTAssertEqual(PackageReader.safeFileName("Quyết định số 1.pdf", fallback: "x"), "Quyết định số 1.pdf")
        var taken = Set<String>()
        XCTAssertEqual(PackageReader.uniqueName("a.pdf", taken: &taken), "a.pdf")
        XCTAssertEqual(PackageReader.uniqueName("a.pdf", taken: &taken), "a (2).pdf")
    }
}
