import EdXML
import TestSupport
import XCTest

/// Replays the committed fuzz corpus of XML-signature checking through the entry the fuzzer calls
/// (scripts/fuzz-parsers xmldsig): every package must be refused or get a verdict per signature,
/// without a trap.
final class FuzzCorpusTests: XCTestCase {
    func testXMLSignatureCorpusReplays() async throws {
        for file in try FuzzCorpus.files("xmldsig") { await SignatureFuzzing.checkOne(file.bytes) }
    }
}
