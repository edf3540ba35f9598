import DocumentSigning
import TestSupport
import XCTest

/// Replays the committed fuzz corpora of the CMS reader and the appearance's font and image
/// readers through the entries the fuzzer calls (scripts/fuzz-parsers cms|truetype|png): every
/// file must read or be refused, without a trap. A crash the fuzzer finds is fixed in the parser
/// and its input kept in the corpus, so it stays checked here.
final class FuzzCorpusTests: XCTestCase {
    func testCMSCorpusReplays() throws {
        let files = try FuzzCorpus.files("cms")
        for file in files { CMSFuzzing.readOne(file.bytes) }
        // The seeds are real signatures (openssl cms): some files must get past the parser.
        XCTAssertTrue(files.contains { (try? CMSSignedDataParser.parse($0.bytes)) != nil })
    }

    func testTrueTypeCorpusReplays() throws {
        let files = try FuzzCorpus.files("truetype")
        for file in files { AppearanceFuzzing.readFont(file.bytes) }
        XCTAssertTrue(files.contains { (try? TrueTypeFont(bytes: $0.bytes)) != nil })
    }

    /// Found by scripts/fuzz-parsers truetype: an hhea table declared 10 bytes long, whose
    /// numberOfHMetrics (at offset 34) was read from the next table. The font read, but its
    /// subset, hhea copied by its declared length, did not. Now the font itself is refused.
    func testTableShorterThanItsFixedFieldsIsRefused() throws {
        let font = try XCTUnwrap(try FuzzCorpus.files("truetype").first { $0.name == "crash-short-hhea.ttf" })
        XCTAssertThrowsError(try TrueTypeFont(bytes: font.bytes)) {
            XCTAssertEqual($0 as? TrueTypeFont.Failure, .malformed("hhea table shorter than 36 bytes"))
        }
    }

    /// Found by scripts/fuzz-parsers truetype: a cmap table declared 0 bytes long, its
    /// subtables read from the bytes after it. Lookups stay within the table now.
    func testCharacterMapIsReadWithinItsTable() throws {
        let font = try XCTUnwrap(try FuzzCorpus.files("truetype").first { $0.name == "crash-empty-cmap.ttf" })
        XCTAssertThrowsError(try TrueTypeFont(bytes: font.bytes)) {
            XCTAssertEqual($0 as? TrueTypeFont.Failure, .malformed("read past the end at 2"))
        }
    }

    func testPNGCorpusReplays() throws {
        let files = try FuzzCorpus.files("png")
        for file in files { AppearanceFuzzing.readImage(file.bytes) }
        XCTAssertTrue(files.contains { (try? PNGImage(bytes: $0.bytes)) != nil })
    }
}
