import Foundation
import XCTest
@testable import GatewayCore

/// What a document's file name may be (store, edXML `AttachmentName`, a clerk's Windows PC).
final class UnitFileNameRuleTests: XCTestCase {
    private func refusal(_ name: String, file: StaticString = #filePath, line: UInt = #line) -> IntakeError? {
        do {
            let accepted = try FileNameRule.validate(name)
            XCTFail("accepted \(name.debugDescription) as \(accepted.debugDescription)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private func assertRefused(_ name: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let error = refusal(name, file: file, line: line) else { return }
        XCTAssertEqual(error.code, .invalidFileName, name.debugDescription, file: file, line: line)
        XCTAssertEqual(error.field, "file_name", name.debugDescription, file: file, line: line)
    }

    func testVietnameseNameIsAccepted() throws {
        XCTAssertEqual(try FileNameRule.validate("Quyết định số 12.pdf"), "Quyết định số 12.pdf")
        XCTAssertEqual(try FileNameRule.validate(Array("Quyết định số 12.pdf".utf8)), "Quyết định số 12.pdf")
        XCTAssertEqual(try FileNameRule.validate("QD-123_2026 (bản sao).pdf"), "QD-123_2026 (bản sao).pdf")
        XCTAssertEqual(try FileNameRule.validate(".hidden"), ".hidden")
        XCTAssertEqual(try FileNameRule.validate("a"), "a")
    }

    func testDecomposedNameComesOutPrecomposed() throws {
        let nfd = "Quyết định số 12.pdf".decomposedStringWithCanonicalMapping
        let result = try FileNameRule.validate(Array(nfd.utf8))
        XCTAssertEqual(Array(result.utf8), Array("Quyết định số 12.pdf".precomposedStringWithCanonicalMapping.utf8))
    }

    func testEmptyDotAndDotDotAreRefused() {
        assertRefused("")
        assertRefused(".")
        assertRefused("..")
    }

    func testPathSeparatorsAreRefused() {
        assertRefused("a/b.pdf")
        assertRefused("a\\b.pdf")
        assertRefused("/etc/passwd")
        assertRefused("../a.pdf")
    }

    func testControlCharactersAreRefused() {
        assertRefused("a\nb.pdf")
        assertRefused("a\u{7}.pdf")
        assertRefused("a\u{0}.pdf")
        assertRefused("a\tb.pdf")
        assertRefused("a\u{7F}.pdf")
        assertRefused("a\u{85}.pdf")   // C1 control (NEXT LINE)
        assertRefused("a\r\nb.pdf")
    }

    func testLengthIsCountedInBytes() throws {
        let max = String(repeating: "a", count: 251) + ".pdf"
        XCTAssertEqual(max.utf8.count, 255)
        XCTAssertEqual(try FileNameRule.validate(max), max)
        let over = String(repeating: "a", count: 252) + ".pdf"
        XCTAssertEqual(over.utf8.count, 256)
        assertRefused(over)
        // 128 "ệ" are 128 characters but 384 bytes.
        assertRefused(String(repeating: "\u{1EC7}", count: 128))
        XCTAssertEqual(try FileNameRule.validate(String(repeating: "\u{1EC7}", count: 85)).utf8.count, 255)
    }

    func testWindowsReservedCharactersAreRefused() {
        for character in ["?", "<", ">", ":", "\"", "|", "*"] {
            assertRefused("a\(character).pdf")
        }
    }

    func testTrailingDotOrSpaceIsRefused() {
        assertRefused("name.")
        assertRefused("name ")
        assertRefused("Quyết định.pdf.")
    }

    func testInvalidUTF8BytesAreRefused() throws {
        for bytes: [UInt8] in [
            [0x61, 0xFF, 0x2E, 0x70, 0x64, 0x66],   // a<FF>.pdf
            [0x61, 0xC3, 0x28, 0x2E, 0x70],         // broken 2-byte sequence
            [0xC0, 0xAF],                           // overlong "/"
            [0xED, 0xA0, 0x80],                     // UTF-16 surrogate
            [0x56, 0xE8],                           // Latin-1 "Vè"
        ] {
            do {
                let name = try FileNameRule.validate(bytes)
                XCTFail("accepted \(bytes) as \(name.debugDescription)")
            } catch {
                XCTAssertEqual(error.code, .invalidFileName, "\(bytes)")
                XCTAssertEqual(error.field, "file_name", "\(bytes)")
                XCTAssertTrue(error.messageEn.contains("UTF-8"), error.messageEn)
            }
        }
    }

    func testByteFormRefusesWhatTheTextFormRefuses() {
        for name in ["", ".", "..", "a/b.pdf", "a\u{7}.pdf", "name."] {
            do {
                _ = try FileNameRule.validate(Array(name.utf8))
                XCTFail("accepted \(name.debugDescription)")
            } catch {
                XCTAssertEqual(error.code, .invalidFileName, name.debugDescription)
            }
        }
    }
}
