// The command line's submission metadata: the JSON the local API documents, read back by the
// daemon's own parser.
import DocumentModel
import Foundation
import XCTest
@testable import GatewayCore

final class UnitSubmissionMetadataTests: XCTestCase {
    func testOnlyWhatWasGivenIsSentUnderTheDocumentedKeys() throws {
        var metadata = SubmissionMetadata(fileName: "QĐ 5.pdf")
        metadata.recipients = ["000.00.20.H13", "000.00.20.H14"]
        metadata.documentType = "Quyết định"
        metadata.priority = 2
        metadata.signer = .init(fullName: "Nguyễn Văn An")
        let json = String(decoding: try metadata.json(), as: UTF8.self)
        XCTAssertEqual(json, #"{"document_type":"Quyết định","file_name":"QĐ 5.pdf","priority":2,"#
            + #""recipients":["000.00.20.H13","000.00.20.H14"],"signed":false,"signer":{"full_name":"Nguyễn Văn An"}}"#)

        let parsed = try MetadataParser().parse(Array(try metadata.json()))
        XCTAssertEqual(parsed.fileName, "QĐ 5.pdf")
        XCTAssertEqual(parsed.metadata, DocumentMetadata(
            recipients: [AgencyCode("000.00.20.H13")!, AgencyCode("000.00.20.H14")!], documentType: "Quyết định", priority: .veryUrgent,
            signer: .init(fullName: "Nguyễn Văn An"), signatures: [.leader, .organization]))
    }
}
