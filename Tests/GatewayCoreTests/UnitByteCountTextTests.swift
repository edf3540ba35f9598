import XCTest
@testable import GatewayCore

/// Sizes as people write them in the configuration and read them in messages.
final class UnitByteCountTextTests: XCTestCase {
    func testParsesDecimalUnits() {
        XCTAssertEqual(ByteCountText.parse("100 MB"), 100_000_000)
        XCTAssertEqual(ByteCountText.parse("100MB"), 100_000_000)
        XCTAssertEqual(ByteCountText.parse("1.5GB"), 1_500_000_000)
        XCTAssertEqual(ByteCountText.parse("300 kb"), 300_000)
        XCTAssertEqual(ByteCountText.parse("2 G"), 2_000_000_000)
        XCTAssertEqual(ByteCountText.parse("7 m"), 7_000_000)
    }

    func testParsesBinaryUnits() {
        XCTAssertEqual(ByteCountText.parse("64KiB"), 65_536)
        XCTAssertEqual(ByteCountText.parse("512 KiB"), 524_288)
        XCTAssertEqual(ByteCountText.parse("1 MiB"), 1_048_576)
        XCTAssertEqual(ByteCountText.parse("2 GiB"), 2_147_483_648)
        XCTAssertEqual(ByteCountText.parse("1.5 kib"), 1_536)
    }

    func testParsesPlainBytes() {
        XCTAssertEqual(ByteCountText.parse("42"), 42)
        XCTAssertEqual(ByteCountText.parse("42 B"), 42)
        XCTAssertEqual(ByteCountText.parse("0"), 0)
        XCTAssertEqual(ByteCountText.parse("  1048576  "), 1_048_576)
    }

    func testRefusesWhatIsNotASize() {
        XCTAssertNil(ByteCountText.parse("abc"))
        XCTAssertNil(ByteCountText.parse("-1"))
        XCTAssertNil(ByteCountText.parse("-1 MB"))
        XCTAssertNil(ByteCountText.parse("10 XB"))
        XCTAssertNil(ByteCountText.parse(""))
        XCTAssertNil(ByteCountText.parse("MB"))
        XCTAssertNil(ByteCountText.parse("1.2.3 MB"))
        XCTAssertNil(ByteCountText.parse("1,5 MB"))
        XCTAssertNil(ByteCountText.parse("0.5 B"))        // not a whole number of bytes
        XCTAssertNil(ByteCountText.parse("0.1 KiB"))      // 102.4 bytes
        XCTAssertNil(ByteCountText.parse("100 MB extra"))
        XCTAssertNil(ByteCountText.parse("10 TB"))
        XCTAssertNil(ByteCountText.parse("99999999999 GB"))  // beyond Int64
    }

    func testFormat() {
        XCTAssertEqual(ByteCountText.format(1_500_000), "1.5 MB")
        XCTAssertEqual(ByteCountText.format(100_000_000), "100 MB")
        XCTAssertEqual(ByteCountText.format(200_000_000), "200 MB")
        XCTAssertEqual(ByteCountText.format(300_000), "300 KB")
        XCTAssertEqual(ByteCountText.format(12), "12 B")
        XCTAssertEqual(ByteCountText.format(0), "0 B")
        XCTAssertEqual(ByteCountText.format(999), "999 B")
        XCTAssertEqual(ByteCountText.format(1_000), "1 KB")
        XCTAssertEqual(ByteCountText.format(2_340_000_000), "2.3 GB")
        XCTAssertEqual(ByteCountText.format(1_250_000), "1.3 MB")  // one decimal, rounded
    }

    func testFormatThenParseRoundTripsForRoundSizes() {
        for bytes: Int64 in [1_000, 1_500_000, 100_000_000, 1_500_000_000, 42] {
            XCTAssertEqual(ByteCountText.parse(ByteCountText.format(bytes)), bytes, "\(bytes)")
        }
    }
}
