import XCTest
@testable import GatewayCore

/// Regression tests for bugs found by these unit tests (now fixed); each names the bug it shows.


final class UnitRegressionTests: XCTestCase {
    // MARK: MetadataParser names a wrong-typed signer field without its "signer." prefix

    /// `MetadataParser.text(_:_:field:…)` reads the value with `string(object, key)`, which
    /// reports a type error under the bare `key` ("full_name") instead of the `field` it was
    /// given ("signer.full_name"). Every other signer error (unknown key, too long) says
    /// "signer.…"; a client matching on `field` points at a top-level "full_name" that does
    /// not exist.
    func testWrongTypedSignerFieldIsNamedWithItsPath() throws {
        for key in ["full_name", "position", "competence"] {
            do {
                _ = try MetadataParser().parse(Array("{\"recipients\": [\"000.00.20.H13\"], \"signer\": {\"\(key)\": 5}}".utf8))
                XCTFail("accepted signer.\(key) = 5")
            } catch {
                XCTAssertEqual(error.code, .invalidMetadata)
                XCTAssertEqual(error.field, "signer.\(key)")
                XCTAssertTrue(error.messageEn.contains("\"signer.\(key)\""), error.messageEn)
            }
        }
    }

    // MARK: ByteCountText.parse refuses exact decimal sizes because of binary floating point

    /// `parse` computes `Double(number) * multiplier` and refuses any result that is not a
    /// whole number. 4.1 × 1e6 is 4099999.9999999995 in binary floating point, so "4.1 MB"
    /// (exactly 4,100,000 bytes) is refused, and with it a configuration such as
    /// `max_document_size = "4.1 MB"` ("is not a size"). Hundreds of ordinary values fail the
    /// same way ("2.01 KB", "16.1 MB", "1.07 GB", …).
    func testExactDecimalSizesParse() {
        XCTAssertEqual(ByteCountText.parse("4.1 MB"), 4_100_000)
        XCTAssertEqual(ByteCountText.parse("2.01 KB"), 2_010)
        XCTAssertEqual(ByteCountText.parse("16.1 MB"), 16_100_000)
        XCTAssertEqual(ByteCountText.parse("1.07 GB"), 1_070_000_000)
    }

    func testConfigurationAcceptsADecimalSize() throws {
        let configuration = try ConfigurationLoader.parse("[intake]\nmax_document_size = \"4.1 MB\"\n")
        XCTAssertEqual(configuration.intake.maximumDocumentSize, 4_100_000)
    }

    // MARK: KeyLocator loses every line number in a file with Windows (CRLF) line endings

    /// `KeyLocator` splits the text with `split(separator: "\n")`, but in a Swift `String`
    /// "\r\n" is ONE Character, which is not equal to "\n": a CRLF file is never split and is
    /// seen as a single line. TOML (and TOMLKit) accept CRLF, so a file edited in Notepad
    /// loads, but every issue then comes without its line (here `nil` instead of 6).
    func testIssueLinesInACRLFFile() throws {
        let text = "# gatewayd\r\ndata_dir = \"/var/lib/gatewayd\"\r\n\r\n[intake]\r\nhot_folder_enabled = true\r\nmax_documnet_size = \"50 MB\"\r\n"
        do {
            _ = try ConfigurationLoader.parse(text)
            XCTFail("accepted an unknown key")
        } catch let errors as ConfigurationErrors {
            XCTAssertEqual(errors.issues.count, 1, "\(errors.issues)")
            XCTAssertEqual(errors.issues.first?.key, "intake.max_documnet_size")
            XCTAssertEqual(errors.issues.first?.line, 6)
        }
    }

    // MARK: FileNameRule checks the length before normalising, then returns the normalised name

    /// `validate` checks `name.utf8.count <= 255` on the name as given, then returns
    /// `precomposedStringWithCanonicalMapping`. NFC is not always shorter: composition-excluded
    /// characters decompose under NFC (U+0958 DEVANAGARI LETTER QA, 3 bytes, becomes
    /// U+0915 U+093C, 6 bytes). A 255-byte name is accepted and a 510-byte name returned,
    /// breaking the rule's own `maximumBytes` (ext4 refuses such a name with ENAMETOOLONG).
    func testReturnedNameNeverExceedsTheByteLimit() {
        let name = String(repeating: "\u{0958}", count: 85)
        XCTAssertEqual(name.utf8.count, 255)
        do {
            let result = try FileNameRule.validate(name)
            XCTAssertLessThanOrEqual(result.utf8.count, FileNameRule.maximumBytes, "validate returned a \(result.utf8.count)-byte name")
        } catch {
            // Refusing it is also correct: the normalised name does not fit.
            XCTAssertEqual(error.code, .invalidFileName)
        }
    }
}
