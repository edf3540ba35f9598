import DocumentModel
import Foundation
import XCTest
@testable import GatewayCore

/// Strict reading of the metadata JSON (API header and hot-folder sidecar).
final class UnitMetadataParserTests: XCTestCase {
    private let h13 = AgencyCode("000.00.20.H13")!
    private let a01 = AgencyCode("000.00.01.A01")!

    private func parse(_ json: String, defaults: [AgencyCode] = []) throws(IntakeError) -> MetadataParser.Parsed {
        try MetadataParser(defaultRecipients: defaults).parse(Array(json.utf8))
    }

    /// The refusal for `bytes`, or a test failure when they are accepted.
    private func refusal(_ bytes: [UInt8]?, defaults: [AgencyCode] = [], file: StaticString = #filePath, line: UInt = #line) -> IntakeError? {
        do {
            let parsed = try MetadataParser(defaultRecipients: defaults).parse(bytes)
            XCTFail("accepted: \(parsed)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private func refusal(_ json: String, defaults: [AgencyCode] = [], file: StaticString = #filePath, line: UInt = #line) -> IntakeError? {
        refusal(Array(json.utf8), defaults: defaults, file: file, line: line)
    }

    private func assertRefused(_ json: String, _ code: IntakeError.Code, field: String?, file: StaticString = #filePath, line: UInt = #line) {
        guard let error = refusal(json, file: file, line: line) else { return }
        XCTAssertEqual(error.code, code, "for \(json)", file: file, line: line)
        XCTAssertEqual(error.field, field, "for \(json)", file: file, line: line)
    }

    private func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    // MARK: invalid_metadata

    func testInvalidJSONIsInvalidMetadata() {
        assertRefused("{\"recipients\": [\"000.00.20.H13\"", .invalidMetadata, field: nil)
        assertRefused("{recipients: 1}", .invalidMetadata, field: nil)
    }

    func testNotAnObjectIsInvalidMetadata() {
        assertRefused("[\"000.00.20.H13\"]", .invalidMetadata, field: nil)
        assertRefused("\"000.00.20.H13\"", .invalidMetadata, field: nil)
        assertRefused("42", .invalidMetadata, field: nil)
    }

    func testNonUTF8BytesAreInvalidMetadata() throws {
        // {"subject":"<0xFF>","recipients":["000.00.20.H13"]}: well-formed apart from one byte.
        var bytes = Array("{\"recipients\":[\"000.00.20.H13\"],\"subject\":\"".utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array("\"}".utf8)
        let error = try XCTUnwrap(refusal(bytes))
        XCTAssertEqual(error.code, .invalidMetadata)
        XCTAssertNil(error.field)
        XCTAssertTrue(error.messageEn.contains("UTF-8"), error.messageEn)
        // Latin-1 Vietnamese (a common mis-save) is not UTF-8 either.
        let latin1: [UInt8] = Array("{\"subject\":\"V".utf8) + [0xE8] + Array("\"}".utf8)
        XCTAssertEqual(refusal(latin1)?.code, .invalidMetadata)
    }

    func testUnknownKeyIsInvalidMetadataNamingTheKey() {
        assertRefused("{\"recipient\": [\"000.00.20.H13\"]}", .invalidMetadata, field: "recipient")
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"subjet\": \"x\"}", .invalidMetadata, field: "subjet")
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"signer\": {\"name\": \"An\"}}", .invalidMetadata, field: "signer.name")
    }

    func testWrongTypesAreInvalidMetadataNamingTheField() {
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"subject\": 5}", .invalidMetadata, field: "subject")
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"number\": 12}", .invalidMetadata, field: "number")
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"file_name\": [\"a.pdf\"]}", .invalidMetadata, field: "file_name")
        assertRefused("{\"recipients\": 5}", .invalidMetadata, field: "recipients")
        assertRefused("{\"recipients\": {\"code\": \"000.00.20.H13\"}}", .invalidMetadata, field: "recipients")
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"signer\": \"Nguyễn Văn An\"}", .invalidMetadata, field: "signer")
        // A signer field of the wrong type: see UnitKnownBugsTests (the field is misnamed).
        XCTAssertEqual(refusal("{\"recipients\": [\"000.00.20.H13\"], \"signer\": {\"full_name\": true}}")?.code, .invalidMetadata)
    }

    func testControlCharactersInTextAreInvalidMetadata() {
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"subject\": \"a\\u0007b\"}", .invalidMetadata, field: "subject")
        // Newlines and tabs are ordinary text.
        XCTAssertEqual(try parse("{\"recipients\": [\"000.00.20.H13\"], \"subject\": \"a\\nb\\tc\"}").metadata.subject, "a\nb\tc")
    }

    // MARK: recipients

    func testBadSecondRecipientIsNamedByIndex() throws {
        let error = try XCTUnwrap(refusal("{\"recipients\": [\"000.00.20.H13\", \"000.00.20.h14\"]}"))
        XCTAssertEqual(error.code, .invalidAgencyCode)
        XCTAssertEqual(error.field, "recipients[1]")
        XCTAssertTrue(error.messageEn.contains("\"000.00.20.h14\""), error.messageEn)
        XCTAssertEqual(refusal("{\"recipients\": [\"000.00.20.H13\", 7]}")?.field, "recipients[1]")
        XCTAssertEqual(refusal("{\"recipients\": [\"000.00.20.H13\", 7]}")?.code, .invalidAgencyCode)
        XCTAssertEqual(refusal("{\"recipients\": [\"bad\", \"000.00.20.H13\"]}")?.field, "recipients[0]")
    }

    func testNoRecipientsAndNoDefaultIsMissingRecipients() throws {
        for json in ["{}", "{\"recipients\": []}", "{\"recipients\": null}", "{\"subject\": \"Về việc họp\"}"] {
            let error = try XCTUnwrap(refusal(json), json)
            XCTAssertEqual(error.code, .missingRecipients, json)
            XCTAssertEqual(error.field, "recipients", json)
        }
        XCTAssertEqual(refusal(nil as [UInt8]?)?.code, .missingRecipients)
        XCTAssertEqual(refusal([] as [UInt8])?.code, .missingRecipients)
    }

    func testDefaultRecipientsAreUsedWhenNoneAreGiven() throws {
        XCTAssertEqual(try parse("{}", defaults: [h13, a01]).metadata.recipients, [h13, a01])
        XCTAssertEqual(try parse("{\"recipients\": []}", defaults: [a01]).metadata.recipients, [a01])
        XCTAssertEqual(try MetadataParser(defaultRecipients: [h13]).parse(nil).metadata.recipients, [h13])
        XCTAssertEqual(try MetadataParser(defaultRecipients: [h13]).parse([]).metadata, DocumentMetadata(recipients: [h13], signatures: [.leader, .organization]))
        // Given recipients replace the defaults, they are not added to them.
        XCTAssertEqual(try parse("{\"recipients\": [\"000.00.01.A01\"]}", defaults: [h13]).metadata.recipients, [a01])
    }

    func testSingleStringRecipientIsAListOfOne() throws {
        XCTAssertEqual(try parse("{\"recipients\": \"000.00.20.H13\"}").metadata.recipients, [h13])
        XCTAssertEqual(try parse("{\"recipients\": \" 000.00.20.H13 \"}").metadata.recipients, [h13])
        XCTAssertEqual(refusal("{\"recipients\": \"000.00.20.H1\"}")?.field, "recipients[0]")
    }

    func testDuplicateRecipientsAreCollapsedKeepingOrder() throws {
        let json = "{\"recipients\": [\"000.00.20.H13\", \"000.00.01.A01\", \"000.00.20.H13\", \" 000.00.01.A01\"]}"
        XCTAssertEqual(try parse(json).metadata.recipients, [h13, a01])
    }

    func testTooManyRecipientsIsInvalidMetadata() {
        let list = (0..<101).map { "\"000.00.\(pad2($0 / 100)).A\(pad2($0 % 100))\"" }.joined(separator: ",")
        assertRefused("{\"recipients\": [\(list)]}", .invalidMetadata, field: "recipients")
        let hundred = (0..<100).map { "\"000.00.00.A\(pad2($0))\"" }.joined(separator: ",")
        XCTAssertEqual(try parse("{\"recipients\": [\(hundred)]}").metadata.recipients.count, 100)
    }

    // MARK: priority

    func testOutOfRangeOrNonIntegerPriorityIsUnknownPriority() {
        for value in ["5", "-1", "1.5", "\"abc\"", "true", "[1]", "\"\"", "9999999999999999999"] {
            let error = refusal("{\"recipients\": [\"000.00.20.H13\"], \"priority\": \(value)}")
            XCTAssertEqual(error?.code, .unknownPriority, "priority \(value)")
            XCTAssertEqual(error?.field, "priority", "priority \(value)")
        }
    }

    func testPriorityNumbersMapToTheNamedLevels() throws {
        let expected: [Priority] = [.normal, .urgent, .veryUrgent, .flash, .flashScheduled]
        for (value, priority) in expected.enumerated() {
            XCTAssertEqual(try parse("{\"recipients\": [\"000.00.20.H13\"], \"priority\": \(value)}").metadata.priority, priority)
        }
        XCTAssertEqual(try parse("{\"recipients\": [\"000.00.20.H13\"]}").metadata.priority, .normal)
        XCTAssertEqual(try parse("{\"recipients\": [\"000.00.20.H13\"], \"priority\": null}").metadata.priority, .normal)
    }

    func testPriorityAsTextIsAccepted() throws {
        XCTAssertEqual(try parse("{\"recipients\": [\"000.00.20.H13\"], \"priority\": \"2\"}").metadata.priority, .veryUrgent)
        XCTAssertEqual(try parse("{\"recipients\": [\"000.00.20.H13\"], \"priority\": \" 3 \"}").metadata.priority, .flash)
        XCTAssertEqual(refusal("{\"recipients\": [\"000.00.20.H13\"], \"priority\": \"5\"}")?.code, .unknownPriority)
    }

    // MARK: field lengths

    func testSubjectOf500CharactersIsAcceptedAnd501IsTooLong() throws {
        let ok = String(repeating: "a", count: 500)
        XCTAssertEqual(try parse("{\"recipients\": [\"000.00.20.H13\"], \"subject\": \"\(ok)\"}").metadata.subject, ok)
        let error = try XCTUnwrap(refusal("{\"recipients\": [\"000.00.20.H13\"], \"subject\": \"\(ok)b\"}"))
        XCTAssertEqual(error.code, .fieldTooLong)
        XCTAssertEqual(error.field, "subject")
        XCTAssertTrue(error.messageEn.contains("501"), error.messageEn)
        XCTAssertTrue(error.messageEn.contains("500"), error.messageEn)
    }

    func testLimitsCountCharactersNotBytesNorScalars() throws {
        // 500 "ệ" written decomposed (e + combining dot below + combining circumflex): 1,500
        // scalars and 3,000 bytes, but 500 characters as a reader sees them.
        let decomposed = String(repeating: "e\u{0323}\u{0302}", count: 500)
        let parsed = try parse("{\"recipients\": [\"000.00.20.H13\"], \"subject\": \"\(decomposed)\"}")
        XCTAssertEqual(Array(try XCTUnwrap(parsed.metadata.subject).unicodeScalars), Array(String(repeating: "\u{1EC7}", count: 500).unicodeScalars))
        XCTAssertEqual(refusal("{\"recipients\": [\"000.00.20.H13\"], \"subject\": \"\(decomposed)ệ\"}")?.code, .fieldTooLong)
    }

    func testNumberOf12CharactersIsTooLong() throws {
        XCTAssertEqual(try parse("{\"recipients\": [\"000.00.20.H13\"], \"number\": \"12345678901\"}").metadata.number, "12345678901")
        let error = try XCTUnwrap(refusal("{\"recipients\": [\"000.00.20.H13\"], \"number\": \"123456789012\"}"))
        XCTAssertEqual(error.code, .fieldTooLong)
        XCTAssertEqual(error.field, "number")
    }

    func testOtherTextLimits() {
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"notation\": \"\(String(repeating: "Q", count: 31))\"}", .fieldTooLong, field: "notation")
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"document_type\": \"\(String(repeating: "Q", count: 101))\"}", .fieldTooLong, field: "document_type")
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"signer\": {\"position\": \"\(String(repeating: "Q", count: 101))\"}}", .fieldTooLong, field: "signer.position")
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"signer\": {\"competence\": \"\(String(repeating: "Q", count: 101))\"}}", .fieldTooLong, field: "signer.competence")
    }

    func testSignerFullNameOf51CharactersIsTooLong() throws {
        let fifty = String(repeating: "Ễ", count: 50)
        XCTAssertEqual(try parse("{\"recipients\": [\"000.00.20.H13\"], \"signer\": {\"full_name\": \"\(fifty)\"}}").metadata.signer?.fullName, fifty)
        let error = try XCTUnwrap(refusal("{\"recipients\": [\"000.00.20.H13\"], \"signer\": {\"full_name\": \"\(fifty)n\"}}"))
        XCTAssertEqual(error.code, .fieldTooLong)
        XCTAssertEqual(error.field, "signer.full_name")
    }

    // MARK: text

    func testVietnameseTextSurvivesByteForByte() throws {
        let subject = "Về việc tổ chức Hội nghị tổng kết năm 2026 — Ủy ban nhân dân xã Hòa Tiến"
        let nfc = subject.precomposedStringWithCanonicalMapping
        let json = "{\"recipients\": [\"000.00.20.H13\"], \"subject\": \"\(nfc)\", \"signer\": {\"full_name\": \"Nguyễn Thị Thủy\", \"position\": \"Chủ tịch\"}, \"document_type\": \"Quyết định\"}"
        let metadata = try parse(json).metadata
        XCTAssertEqual(Array(try XCTUnwrap(metadata.subject).utf8), Array(nfc.utf8))
        XCTAssertEqual(Array(try XCTUnwrap(metadata.signer?.fullName).utf8), Array("Nguyễn Thị Thủy".precomposedStringWithCanonicalMapping.utf8))
        XCTAssertEqual(metadata.signer?.position, "Chủ tịch")
        XCTAssertEqual(metadata.documentType, "Quyết định")
        // The same text escaped as \uXXXX in the JSON.
        let escaped = nfc.unicodeScalars.map { $0.isASCII ? String($0) : "\\u" + String(repeating: "0", count: 4 - String($0.value, radix: 16).count) + String($0.value, radix: 16) }.joined()
        XCTAssertEqual(Array(try XCTUnwrap(parse("{\"recipients\": \"000.00.20.H13\", \"subject\": \"\(escaped)\"}").metadata.subject).utf8), Array(nfc.utf8))
    }

    func testDecomposedInputComesOutPrecomposed() throws {
        let subject = "Về việc tổ chức Hội nghị tổng kết năm 2026 — Ủy ban nhân dân xã Hòa Tiến"
        let nfd = subject.decomposedStringWithCanonicalMapping
        let nfc = subject.precomposedStringWithCanonicalMapping
        XCTAssertNotEqual(Array(nfd.utf8), Array(nfc.utf8), "the test input must really be decomposed")
        let json = "{\"file_name\": \"Quyết định.pdf\", \"recipients\": [\"000.00.20.H13\"], \"subject\": \"\(nfd)\", \"signer\": {\"full_name\": \"\("Trần Văn Đức".decomposedStringWithCanonicalMapping)\"}}"
        let parsed = try parse(json.decomposedStringWithCanonicalMapping)
        // String == compares canonically, so compare the bytes.
        XCTAssertEqual(Array(try XCTUnwrap(parsed.metadata.subject).utf8), Array(nfc.utf8))
        XCTAssertEqual(Array(try XCTUnwrap(parsed.metadata.signer?.fullName).utf8), Array("Trần Văn Đức".precomposedStringWithCanonicalMapping.utf8))
        XCTAssertEqual(Array(try XCTUnwrap(parsed.fileName).utf8), Array("Quyết định.pdf".precomposedStringWithCanonicalMapping.utf8))
    }

    func testTextIsTrimmedAndEmptyMeansAbsent() throws {
        let metadata = try parse("{\"recipients\": [\"000.00.20.H13\"], \"subject\": \"  Về việc họp \\n\", \"number\": \"   \", \"notation\": \"\"}").metadata
        XCTAssertEqual(metadata.subject, "Về việc họp")
        XCTAssertNil(metadata.number)
        XCTAssertNil(metadata.notation)
    }

    // MARK: signed

    func testSignedMustBeABoolean() throws {
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"signed\": 1}", .invalidMetadata, field: "signed")
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"signed\": 0}", .invalidMetadata, field: "signed")
        assertRefused("{\"recipients\": [\"000.00.20.H13\"], \"signed\": \"true\"}", .invalidMetadata, field: "signed")
        XCTAssertTrue(try parse("{\"recipients\": [\"000.00.20.H13\"], \"signed\": true}").metadata.signed)
        XCTAssertFalse(try parse("{\"recipients\": [\"000.00.20.H13\"], \"signed\": false}").metadata.signed)
        XCTAssertFalse(try parse("{\"recipients\": [\"000.00.20.H13\"]}").metadata.signed)
    }

    // MARK: the whole object

    func testTheDocumentedExampleParsesToTheRightValue() throws {
        let json = """
        {
          "file_name": "QD-123.pdf",
          "recipients": ["000.00.20.H13", "000.00.20.H14"],
          "subject": "Về việc tổ chức họp giao ban tháng 11",
          "number": "123",
          "notation": "QĐ-UBND",
          "document_type": "Quyết định",
          "priority": 0,
          "signer": {"full_name": "Nguyễn Văn An", "position": "Chủ tịch", "competence": "TM. UBND"},
          "signed": false
        }
        """
        let parsed = try parse(json)
        XCTAssertEqual(parsed.fileName, "QD-123.pdf")
        XCTAssertEqual(parsed.metadata, DocumentMetadata(
            recipients: [h13, AgencyCode("000.00.20.H14")!],
            subject: "Về việc tổ chức họp giao ban tháng 11", number: "123", notation: "QĐ-UBND",
            documentType: "Quyết định", priority: .normal,
            signer: .init(fullName: "Nguyễn Văn An", position: "Chủ tịch", competence: "TM. UBND"),
            signed: false, signatures: [.leader, .organization]))
    }

    /// `"page"` and `"rect"`: where the leader's signature goes on this document.
    func testPlacementOfTheLeadersSignature() throws {
        let parsed = try parse("{\"page\": 2, \"rect\": [300, 90.5, 200, 60]}", defaults: [h13]).metadata
        XCTAssertEqual(parsed.page, 2)
        XCTAssertEqual(parsed.rect, [300, 90.5, 200, 60])
        for json in ["{\"page\": 0}", "{\"page\": \"2\"}", "{\"rect\": [1, 2, 3]}", "{\"rect\": [1, 2, 0, 4]}", "{\"rect\": [1, 2, -3, 4]}",
                     "{\"rect\": \"300,90,200,60\"}", "{\"rect\": [1, 2, 3, \"4\"]}"] {
            let error = refusal(Array(json.utf8), defaults: [h13])
            XCTAssertEqual(error?.code, .invalidMetadata, json)
            XCTAssertNotNil(error?.field, json)
        }
    }

    /// `"signatures"`: what the document needs on the box, checked by the signing flow's rules
    /// and stored resolved (the defaults from `[signing]` when absent).
    func testSignaturesAreCheckedAndStoredResolved() throws {
        XCTAssertEqual(try parse("{\"signatures\": [\"organization\"]}", defaults: [h13]).metadata.signatures, [.organization])
        XCTAssertEqual(try parse("{\"signatures\": \"organization\"}", defaults: [h13]).metadata.signatures, [.organization])
        XCTAssertEqual(try parse("{\"signatures\": [\"organization\", \"leader\"]}", defaults: [h13]).metadata.signatures,
                       [.leader, .organization], "kept in signing order")
        XCTAssertEqual(try MetadataParser(defaultRecipients: [h13], defaultSignatures: [.organization]).parse(nil).metadata.signatures,
                       [.organization])
        for (json, word) in [("[\"leader\"]", "organization"), ("[\"seal\"]", "seal"), ("[\"leader\", \"leader\"]", "hai lần"), ("[1]", "leader"),
                             ("true", "leader")] {
            let error = refusal(Array("{\"signatures\": \(json)}".utf8), defaults: [h13])
            XCTAssertEqual(error?.code, .invalidMetadata, json)
            XCTAssertEqual(error?.field, "signatures", json)
            XCTAssertTrue(error?.description.contains(word) ?? false, "\(json): \(error?.description ?? "accepted")")
        }
    }
}
