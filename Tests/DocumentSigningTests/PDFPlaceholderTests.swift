import DocumentSigning
import XCTest

/// Replaced by the PDF signing tests (issue 4).
final class PDFPlaceholderTests: XCTestCase {
    func testProfilesExist() {
        XCTAssertNotEqual(CMSSignedDataBuilder.Profile.pades, .cades)
    }
}
