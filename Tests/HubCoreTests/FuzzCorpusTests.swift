@testable import HubCore
import TestSupport
import XCTest

/// Replays the committed fuzz corpora of hubd's header parsers — tus (Upload-Metadata,
/// Upload-Offset/-Length, Tus-Resumable) and the certificate nginx forwards — through the entries
/// the fuzzer calls (scripts/fuzz-parsers tus|forwarded-cert): every value must give a value or
/// a HubError, without a trap.
final class FuzzCorpusTests: XCTestCase {
    func testTusCorpusReplays() throws {
        let files = try FuzzCorpus.files("tus")
        for file in files { TusFuzzing.readOne(file.bytes) }
        XCTAssertTrue(files.contains { !((try? Tus.parseMetadata(String(decoding: $0.bytes, as: UTF8.self))) ?? [:]).isEmpty })
    }

    func testForwardedCertificateCorpusReplays() throws {
        let files = try FuzzCorpus.files("forwarded-cert")
        for file in files { ForwardedIdentityFuzzing.readOne(file.bytes) }
        // The seeds are real certificates as nginx escapes them: some must read.
        XCTAssertTrue(files.contains { (try? ForwardedIdentity.certificate(escapedPEM: String(decoding: $0.bytes, as: UTF8.self))) != nil })
    }
}
