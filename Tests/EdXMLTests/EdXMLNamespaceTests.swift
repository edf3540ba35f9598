import EdXML
import XCTest

final class EdXMLNamespaceTests: XCTestCase {
    func testNamespaceIsQCVN102() {
        XCTAssertEqual(EdXML.namespace, "http://www.mic.gov.vn/TBT/QCVN_102_2016")
    }
}
