// FileSigning, the signing `gatewayd sign` and the signing stage share: its option rules, and a
// detached signature checked by openssl (an independent verifier).
import DocumentSigning
import Foundation
import Signing
import TestSupport
import XCTest

final class FileSigningTests: XCTestCase {
    func testRolesAndTheirReasons() throws {
        XCTAssertEqual(FileSigning.Role.allCases.map(\.rawValue), ["leader", "organization", "attachment", "copy"])
        XCTAssertEqual(try FileSigning.role("copy").reason, "Bản sao điện tử / electronic copy")
        XCTAssertThrowsError(try FileSigning.role("chairman")) { error in
            XCTAssertEqual(error as? FileSigning.Failure, .unknownRole("chairman"))
        }
    }

    func testRectangle() throws {
        XCTAssertEqual(try FileSigning.rectangle("300, 80,220,50"), [300, 80, 220, 50])
        XCTAssertEqual(try FileSigning.rectangle("-10,0,1.5,2"), [-10, 0, 1.5, 2])
        for bad in ["300,80,220", "300,80,0,50", "300,80,220,-1", "a,b,c,d", "1,2,3,4,5", ""] {
            XCTAssertThrowsError(try FileSigning.rectangle(bad), bad)
        }
    }

    func testAlgorithmForTheKey() throws {
        XCTAssertEqual(try FileSigning.algorithm(named: nil, for: .rsa(bits: 2048)), .rsaPKCS1SHA256)
        XCTAssertEqual(try FileSigning.algorithm(named: nil, for: .ecdsaP384), .ecdsaSHA384)
        XCTAssertEqual(try FileSigning.algorithm(named: "rsa-pss-sha256", for: .rsa(bits: 2048)), .rsaPSSSHA256)
        XCTAssertThrowsError(try FileSigning.algorithm(named: "ecdsa-sha256", for: .rsa(bits: 2048)))
        XCTAssertThrowsError(try FileSigning.algorithm(named: "md5", for: .ecdsaP256))
    }

    func testPDFIsKnownByContent() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("filesigning-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("\r\n%PDF-1.7\n".utf8).write(to: URL(fileURLWithPath: directory + "/named.txt"))
        try Data("not a pdf".utf8).write(to: URL(fileURLWithPath: directory + "/named.pdf"))
        XCTAssertTrue(FileSigning.isPDF(path: directory + "/named.txt"))
        XCTAssertFalse(FileSigning.isPDF(path: directory + "/named.pdf"))
        XCTAssertFalse(FileSigning.isPDF(path: directory + "/absent.pdf"))
    }

    func testDetachedSignatureVerifiesWithOpenSSL() async throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("filesigning-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI(directory: directory)
        let issued = try pki.issue("signer", key: .p256)
        let signer = try SoftwareKeySigner(keyFile: issued.key, chainFile: issued.chain)
        let content = directory + "/tờ trình.docx"
        try Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: content))

        let cms = try await FileSigning.signDetached(path: content, output: content + ".p7s", signer: signer, algorithm: .ecdsaSHA256)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: content + ".p7s")), Data(cms))
        let verified = runProgram("/usr/bin/openssl", ["cms", "-verify", "-binary", "-inform", "DER", "-in", content + ".p7s",
                                                       "-content", content, "-CAfile", issued.root, "-purpose", "any", "-out", "/dev/null"])
        XCTAssertEqual(verified.status, 0, verified.err)

        do {
            try await FileSigning.signDetached(path: directory + "/absent", output: directory + "/absent.p7s", signer: signer, algorithm: .ecdsaSHA256)
            XCTFail("signed a file that does not exist")
        } catch let failure as FileSigning.Failure {
            guard case .unreadable = failure else { return XCTFail("\(failure)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/absent.p7s"))
    }
}
