import Foundation
import TestSupport
import XCTest

/// `gatewayd edxml …` as a clerk or a technician runs it: pack and sign, show, verify (also by
/// xmlsec1), unpack byte for byte, a status reply, a tampered package, a bad agency code.
final class EdXMLCommandLineTests: XCTestCase {
    /// gatewayd beside this test bundle (whatever the build folder).
    static let gatewayd = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("gatewayd").path

    func gatewayd(_ arguments: [String]) -> (status: Int32, out: String, err: String) { runProgram(Self.gatewayd, arguments) }

    func testPackSignShowVerifyUnpackAndReply() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gatewayd), "needs gatewayd built beside the tests")
        let pki = try Fixtures.makePKI(ecdsa: true)
        let d = pki.directory.path
        let decision = URL(fileURLWithPath: "\(d)/Quyết định 123.pdf"), annex = URL(fileURLWithPath: "\(d)/Phụ lục.docx")
        try Fixtures.binaryFile(at: decision, count: 70_001)
        try Fixtures.binaryFile(at: annex, count: 1_234, seed: 9)
        let package = "\(d)/goi tin.edxml"
        let subject = "Về việc thành lập Tổ công tác chuyển đổi số xã Đồng Hỷ"
        let packed = gatewayd(["edxml", "pack", "--from", "000.00.20.H13", "--from-name", "UBND xã Đồng Hỷ", "--to", "000.00.21.H13",
                               "--subject", subject, "--number", "123", "--notation", "QĐ-UBND", "--type", "Quyết định", "--priority", "1",
                               "--signer-name", "Nguyễn Thị Hương", "--signer-position", "Chủ tịch",
                               decision.path, annex.path, "--out", package, "--signer", "key:" + pki.keyPEM, "--cert", pki.chainPEM])
        XCTAssertEqual(packed.status, 0, packed.err)

        let verified = gatewayd(["edxml", "verify", package, "--trust", pki.rootPEM])
        XCTAssertEqual(verified.status, 0, verified.out + verified.err)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/xmlsec1") {
            let judged = runProgram("/usr/bin/xmlsec1", ["--verify", "--trusted-pem", pki.rootPEM, package])
            XCTAssertEqual(judged.status, 0, "xmlsec1: \(judged.err)")
        }

        let shown = gatewayd(["edxml", "show", package, "--json"])
        XCTAssertEqual(shown.status, 0, shown.err)
        XCTAssertTrue(shown.out.contains(subject), "the subject survives with its diacritics: \(shown.out.prefix(400))")
        XCTAssertTrue(shown.out.contains("123") && shown.out.contains("QĐ-UBND"), shown.out)

        let out = "\(d)/unpacked"
        let unpacked = gatewayd(["edxml", "unpack", package, "--dir", out])
        XCTAssertEqual(unpacked.status, 0, unpacked.err)
        for original in [decision, annex] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(original.lastPathComponent)")), try Data(contentsOf: original),
                           "\(original.lastPathComponent) byte-identical")
        }

        let status = "\(d)/status.edxml"
        let replied = gatewayd(["edxml", "status", "--for", package, "--code", "01", "--staff", "Lê Văn Bình", "--out", status,
                                "--signer", "key:" + pki.keyPEM, "--cert", pki.chainPEM])
        XCTAssertEqual(replied.status, 0, replied.err)
        XCTAssertEqual(gatewayd(["edxml", "verify", status, "--trust", pki.rootPEM]).status, 0)
        XCTAssertTrue(gatewayd(["edxml", "show", status]).out.contains("01"))

        // One character of the subject changed after signing: the signature no longer holds.
        var text = try String(contentsOfFile: package, encoding: .utf8)
        text = text.replacingOccurrences(of: "Tổ công tác", with: "Tổ công tắc")
        let tampered = "\(d)/tampered.edxml"
        try text.write(toFile: tampered, atomically: true, encoding: .utf8)
        let refused = gatewayd(["edxml", "verify", tampered, "--trust", pki.rootPEM])
        XCTAssertEqual(refused.status, 1, "a changed package must fail verification: \(refused.out)")
    }

    func testABadAgencyCodeIsRefusedWithAClearMessage() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gatewayd), "needs gatewayd built beside the tests")
        let directory = try Fixtures.temporaryDirectory().path
        try "x".write(toFile: "\(directory)/a.txt", atomically: true, encoding: .utf8)
        let result = gatewayd(["edxml", "pack", "--from", "UBND xã", "--to", "000.00.21.H13", "--subject", "Báo cáo", "--number", "1",
                               "--notation", "BC-UBND", "\(directory)/a.txt", "--out", "\(directory)/p.edxml"])
        XCTAssertEqual(result.status, 1)
        XCTAssertFalse(result.err.isEmpty, "a message says why")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory)/p.edxml"), "nothing written")
        print("refusal: \(result.err)")
    }

    /// `--signer` is `key:PATH` or `token:SLOT`, as for `gatewayd sign`: the bare key path that
    /// `edxml pack` once took is refused with the spelling to use, and nothing is written.
    func testABareKeyPathAsSignerIsRefusedWithTheWayToWriteIt() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.gatewayd), "needs gatewayd built beside the tests")
        let pki = try Fixtures.makePKI(ecdsa: true)
        let d = pki.directory.path
        try "x".write(toFile: "\(d)/a.txt", atomically: true, encoding: .utf8)
        let result = gatewayd(["edxml", "pack", "--from", "000.00.20.H13", "--to", "000.00.21.H13", "--subject", "Báo cáo", "--number", "1",
                               "--notation", "BC-UBND", "\(d)/a.txt", "--out", "\(d)/p.edxml", "--signer", pki.keyPEM, "--cert", pki.chainPEM])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.err.contains("key:\(pki.keyPEM)"), result.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(d)/p.edxml"), "nothing written")
    }
}
