import DocumentSigning
import Foundation
import SwiftASN1
import TestSupport
import X509
import XCTest

/// The certs-only CMS of EST answers (CMSCertificatesOnly): openssl's own (`crl2pkcs7 -nocrl`)
/// as the known vector, read and written byte for byte the same; every truncation refused.
final class UnitCMSCertificatesOnlyTests: XCTestCase {
    func testOpenSSLsCertsOnlyReadsAndIsWrittenByteForByteTheSameAndEveryTruncationIsRefused() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certs-only-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI(directory: directory, name: "ca")
        let leaf = try pki.issue("box", subject: "/CN=000.00.20.H13/O=UBND xã Hòa Tiến", key: .p256)
        let both = directory + "/both.pem"
        try (String(contentsOfFile: leaf.chain, encoding: .utf8) + String(contentsOfFile: pki.root, encoding: .utf8))
            .write(toFile: both, atomically: true, encoding: .utf8)
        let made = runProgram("/usr/bin/openssl", ["crl2pkcs7", "-nocrl", "-certfile", both, "-outform", "DER", "-out", directory + "/vector.p7"])
        XCTAssertEqual(made.status, 0, made.err)
        let vector = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/vector.p7")))

        let certificates = try CMSCertificatesOnly.decode(vector)
        XCTAssertEqual(certificates.count, 2)
        XCTAssertEqual(certificates.first.map { "\($0.subject)" }, "\(try Certificate(pemEncoded: String(contentsOfFile: leaf.chain, encoding: .utf8)).subject)")
        XCTAssertEqual(try CMSCertificatesOnly.encode(certificates), vector)

        // And openssl reads ours.
        try Data(try CMSCertificatesOnly.encode(certificates.reversed())).write(to: URL(fileURLWithPath: directory + "/ours.p7"))
        let printed = runProgram("/usr/bin/openssl", ["pkcs7", "-inform", "DER", "-in", directory + "/ours.p7", "-print_certs", "-noout"])
        XCTAssertEqual(printed.status, 0, printed.err)
        XCTAssertTrue(printed.out.contains("subject=CN=Test Root CA") || printed.out.contains("subject=CN = Test Root CA"), printed.out)

        for length in 0..<vector.count {
            XCTAssertThrowsError(try CMSCertificatesOnly.decode(Array(vector.prefix(length))), "a truncation to \(length) bytes was read")
        }
    }
}
