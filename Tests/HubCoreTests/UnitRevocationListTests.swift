import Foundation
@testable import HubCore
import TestSupport
import X509
import XCTest

/// The CRL codec (Revocation/RevocationList.swift, RevocationListWriter.swift): a CRL made by
/// `openssl ca -gencrl` read and its signature checked, the hub's own CRL read back as written,
/// and every truncation of one refused.
final class UnitRevocationListTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crl-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func certificate(_ path: String) throws -> Certificate {
        try Certificate(pemEncoded: try String(contentsOfFile: path, encoding: .utf8))
    }

    func openssl(_ arguments: [String]) throws {
        let result = runProgram("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw TestPKI.Failure(description: "openssl \(arguments.first ?? ""): \(result.err)") }
    }

    func testACRLMadeByOpenSSLIsReadInPEMAndDERAndItsSignatureChecked() throws {
        let pki = try TestPKI(directory: directory, name: "ca", key: .rsa2048, subject: "/CN=Clients CA/O=Sở TT&TT (thử nghiệm)")
        let other = try TestPKI(directory: directory, name: "other", key: .rsa2048, subject: "/CN=Clients CA/O=Sở TT&TT (thử nghiệm)")
        for name in ["box", "neighbour"] {
            _ = try pki.issue(name, subject: "/CN=000.00.20.H1\(name.count)", key: .p256, extensions: "extendedKeyUsage=clientAuth\n")
        }
        FileManager.default.createFile(atPath: directory + "/index.txt", contents: nil)
        try "01\n".write(toFile: directory + "/crlnumber", atomically: true, encoding: .utf8)
        try "[ca]\ndefault_ca = d\n[d]\ndatabase = \(directory)/index.txt\ncrlnumber = \(directory)/crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\n"
            .write(toFile: directory + "/ca.cnf", atomically: true, encoding: .utf8)
        let ca = ["-config", directory + "/ca.cnf", "-keyfile", directory + "/ca.key", "-cert", pki.root]
        try openssl(["ca"] + ca + ["-revoke", directory + "/box.pem", "-crl_reason", "keyCompromise"])
        try openssl(["ca"] + ca + ["-gencrl", "-out", directory + "/crl.pem"])
        try openssl(["crl", "-in", directory + "/crl.pem", "-outform", "DER", "-out", directory + "/crl.der"])

        let pem = try RevocationList.parseFile(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/crl.pem"))))
        let der = try RevocationList.parseFile(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/crl.der"))))
        XCTAssertEqual(pem, der)
        let list = try XCTUnwrap(pem.first)
        XCTAssertTrue(list.isSigned(by: try certificate(pki.root)))
        XCTAssertFalse(list.isSigned(by: try certificate(other.root)), "same name, another key")
        XCTAssertNotNil(list.revocationDate(of: try certificate(directory + "/box.pem")))
        XCTAssertNil(list.revocationDate(of: try certificate(directory + "/neighbour.pem")))
        XCTAssertNotNil(list.nextUpdate)
    }

    func testTheHubsCRLReadsBackAsWrittenTwoInOneFileAndEveryTruncationIsRefused() throws {
        let pki = try TestPKI(directory: directory, name: "ca", key: .p256, subject: "/CN=Clients CA/O=Sở TT&TT (thử nghiệm)")
        let writer = RevocationListWriter(caCertificate: try certificate(pki.root),
                                          caKey: try Certificate.PrivateKey(pemEncoded: try String(contentsOfFile: directory + "/ca.key", encoding: .utf8)))
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        let entries = [("3B92ED6889ADD4AEB490EBC11B5676BD2DB71972", RevocationListWriter.Reason.keyCompromise), ("80", .superseded), ("01", .unspecified)]
            .map { RevocationListWriter.Entry(agency: "000.00.20.H13", serial: $0.0, date: now, reason: $0.1) }
        let der = try writer.der(entries: entries, number: 7, thisUpdate: now, nextUpdate: now + 86400)

        let list = try RevocationList(derEncoded: der)
        XCTAssertTrue(list.isSigned(by: try certificate(pki.root)))
        XCTAssertEqual(list.thisUpdate, now)
        XCTAssertEqual(list.nextUpdate, now + 86400)
        XCTAssertEqual(Set(list.revoked.keys.map(SerialNumberText.text)), ["3B92ED6889ADD4AEB490EBC11B5676BD2DB71972", "80", "01"])
        XCTAssertEqual(Set(list.revoked.values), [now])

        let pem = try writer.pem(entries: entries, number: 8, thisUpdate: now, nextUpdate: now + 86400)
        XCTAssertEqual(try RevocationList.parseFile(Array((pem + pem).utf8)).count, 2)

        for length in 0..<der.count {
            XCTAssertThrowsError(try RevocationList(derEncoded: Array(der.prefix(length))), "a CRL cut at \(length) bytes")
        }
        var tampered = der
        tampered[tampered.count / 2] ^= 0x01
        XCTAssertFalse((try? RevocationList(derEncoded: tampered))?.isSigned(by: try certificate(pki.root)) ?? false, "one bit changed")
    }

    func testSerialNumbersAreReadAsOperatorsWriteThem() {
        XCTAssertEqual(SerialNumberText.bytes("3b:92:ED"), [0x3B, 0x92, 0xED])
        XCTAssertEqual(SerialNumberText.bytes("0x0080"), [0x80])
        XCTAssertEqual(SerialNumberText.bytes("0"), [0])
        XCTAssertNil(SerialNumberText.bytes("xyz"))
        XCTAssertNil(SerialNumberText.bytes(""))
        XCTAssertEqual(SerialNumberText.text(Certificate.SerialNumber(bytes: [0x00, 0x80])), "80")
    }
}
