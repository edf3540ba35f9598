import XCTest
@testable import GatewayCore

/// The refusals both doors give: stable codes, Vietnamese first, English after.
final class UnitIntakeErrorTests: XCTestCase {
    func testErrorFileTextHasVietnameseThenEnglishThenTheCode() throws {
        let error = IntakeError.invalidAgencyCode("000.00.20.h13", field: "recipients[1]")
        let text = error.errorFileText(fileName: "Quyết định số 12.pdf")
        let vi = try XCTUnwrap(text.range(of: error.messageVi), text)
        let en = try XCTUnwrap(text.range(of: error.messageEn), text)
        let code = try XCTUnwrap(text.range(of: "invalid_agency_code"), text)
        XCTAssertLessThan(vi.lowerBound, en.lowerBound)
        XCTAssertLessThan(en.lowerBound, code.lowerBound)
        XCTAssertTrue(text.hasPrefix("Tệp \"Quyết định số 12.pdf\" không được tiếp nhận.\n"), text)
        XCTAssertTrue(text.contains("The file \"Quyết định số 12.pdf\" was not accepted."), text)
        XCTAssertTrue(text.contains("Mã lỗi / error code: invalid_agency_code\n"), text)
        XCTAssertTrue(text.hasSuffix("Trường / field: recipients[1]\n"), text)
        XCTAssertTrue(error.messageVi.contains("Mã định danh"))
        XCTAssertTrue(error.messageEn.contains("agency code"))
    }

    func testErrorFileTextWithoutAFieldHasNoFieldLine() {
        let text = IntakeError.emptyDocument.errorFileText(fileName: "a.pdf")
        XCTAssertFalse(text.contains("Trường / field"), text)
        XCTAssertTrue(text.hasSuffix("Mã lỗi / error code: empty_document\n"), text)
        XCTAssertEqual(text, """
        Tệp "a.pdf" không được tiếp nhận.
        Lý do: Tệp văn bản rỗng (0 byte). Hãy kiểm tra lại tệp và gửi lại.

        The file "a.pdf" was not accepted.
        Reason: The document is empty (0 bytes). Check the file and submit it again.

        Mã lỗi / error code: empty_document

        """)
    }

    func testEveryCodeHasAnHTTPStatus() {
        let expected: [IntakeError.Code: Int] = [
            .emptyDocument: 400, .documentTooLarge: 413, .invalidMetadata: 400, .unreadableSidecar: 400,
            .invalidAgencyCode: 400, .unknownAgencyName: 400, .missingRecipients: 400, .unknownPriority: 400, .fieldTooLong: 400,
            .invalidFileName: 400, .notARegularFile: 400, .unreadableFile: 400, .notAPDF: 400, .encryptedPDF: 400, .signedClaimRefused: 400, .fileStillBeingWritten: 409, .incompleteUpload: 400,
            .idempotencyConflict: 409, .insufficientSpace: 507, .diskFull: 507, .storeUnavailable: 503, .missingAttachment: 400,
        ]
        XCTAssertEqual(Set(expected.keys), Set(IntakeError.Code.allCases), "a code without an expected status")
        for code in IntakeError.Code.allCases {
            XCTAssertEqual(code.httpStatus, expected[code], code.rawValue)
            XCTAssertTrue((400...599).contains(code.httpStatus), code.rawValue)
        }
        XCTAssertEqual(IntakeError.Code.documentTooLarge.httpStatus, 413)
        XCTAssertEqual(IntakeError.Code.insufficientSpace.httpStatus, 507)
        XCTAssertEqual(IntakeError.Code.diskFull.httpStatus, 507)
    }

    func testCodesAreStableSnakeCase() {
        XCTAssertEqual(IntakeError.Code.allCases.count, 22)
        for code in IntakeError.Code.allCases {
            XCTAssertTrue(code.rawValue.allSatisfy { $0 == "_" || ("a"..."z").contains($0) }, code.rawValue)
        }
        XCTAssertEqual(IntakeError.Code.documentTooLarge.rawValue, "document_too_large")
        XCTAssertEqual(IntakeError.Code.insufficientSpace.rawValue, "insufficient_space")
        XCTAssertEqual(IntakeError.Code.diskFull.rawValue, "disk_full")
    }

    func testTransientCodes() {
        XCTAssertEqual(Set(IntakeError.Code.allCases.filter(\.isTransient)),
                       [.fileStillBeingWritten, .insufficientSpace, .diskFull, .storeUnavailable])
    }

    func testMessagesNameTheLimitsInReadableUnits() {
        let tooLarge = IntakeError.documentTooLarge(limit: 100_000_000)
        XCTAssertEqual(tooLarge.code, .documentTooLarge)
        XCTAssertTrue(tooLarge.messageVi.contains("100 MB"), tooLarge.messageVi)
        XCTAssertTrue(tooLarge.messageEn.contains("100 MB"), tooLarge.messageEn)
        let space = IntakeError.insufficientSpace(free: 150_000_000, reserve: 200_000_000)
        XCTAssertTrue(space.messageEn.contains("150 MB free, reserve 200 MB"), space.messageEn)
        let upload = IntakeError.incompleteUpload(expected: 1000, received: 10)
        XCTAssertTrue(upload.messageEn.contains("10 of 1000 bytes"), upload.messageEn)
        XCTAssertEqual(IntakeError.missingRecipients.field, "recipients")
        XCTAssertEqual(IntakeError.unknownPriority("7").field, "priority")
        XCTAssertEqual(IntakeError.fieldTooLong("subject", nameVi: "Trích yếu", limit: 500, actual: 501).field, "subject")
    }

    func testDescriptionCarriesCodeAndBothMessages() {
        let error = IntakeError.unknownPriority("9")
        XCTAssertEqual(error.description, "unknown_priority: \(error.messageVi) / \(error.messageEn)")
    }
}
