import Foundation
import TestSupport
import XCTest
@testable import GatewayCore
import DocumentSigning
import X509

/// The hub's receipt check against receipts made by openssl (an independent CMS producer), in
/// the protocol's form: SignedData, JSON encapsulated, CAdES attributes, under a test hub CA.
final class RelayReceiptTests: XCTestCase {
    var directory = ""
    var pki: TestPKI!
    var signer: TestPKI.Signer!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-receipt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        pki = try TestPKI(directory: directory, name: "hub-ca", subject: "/CN=Hub CA (test)/O=UBND tỉnh Quảng Nam")
        signer = try pki.issue("hub-receipts", subject: "/CN=000.00.00.H41/O=UBND tỉnh Quảng Nam", key: .p256)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    let expected = ReceiptVerifier.Expectation(key: "000.00.20.H13,2026/11/21,125/QĐ-UBND",
                                              sha256: String(repeating: "ab", count: 32), size: 48213, from: "000.00.20.H13")

    func receipt(_ json: String, signer: TestPKI.Signer? = nil) throws -> [UInt8] {
        let signer = signer ?? self.signer!
        let input = directory + "/receipt-\(UUID().uuidString).json", output = input + ".p7s"
        try json.write(toFile: input, atomically: true, encoding: .utf8)
        let result = runProgram("/usr/bin/openssl", ["cms", "-sign", "-binary", "-nodetach", "-cades", "-md", "sha256", "-in", input,
                                                    "-signer", signer.chain, "-inkey", signer.key, "-outform", "DER", "-out", output])
        guard result.status == 0 else { throw OpenSSLFailure(output: result.err) }
        return try [UInt8](Data(contentsOf: URL(fileURLWithPath: output)))
    }

    func json(key: String? = nil, sha256: String? = nil, size: Int64 = 48213) -> String {
        """
        {"type":"hubd-receipt/1","key":"\(key ?? expected.key)","kind":"document","sha256":"\(sha256 ?? expected.sha256)",\
        "size":\(size),"from":"000.00.20.H13","received_at":"2026-11-21T21:40:12+07:00",\
        "hub":{"code":"000.00.00.H41","name":"UBND tỉnh Quảng Nam"}}
        """
    }

    func roots() throws -> [Certificate] { try DocumentVerifier.trustAnchors(pemFile: pki.root) }

    func testValidReceiptIsAccepted() async throws {
        let receipt = try await ReceiptVerifier.verify(try receipt(json()), expected: expected, hubRoots: try roots())
        XCTAssertEqual(receipt.key, expected.key)
        XCTAssertEqual(receipt.hub.code, "000.00.00.H41")
        XCTAssertEqual(receipt.hub.name, "UBND tỉnh Quảng Nam")
    }

    func testReceiptFromAnotherCAIsRefused() async throws {
        let other = try TestPKI(directory: directory, name: "other-ca")
        let stranger = try other.issue("stranger", subject: "/CN=000.00.00.H41", key: .p256)
        await assertRefused(try receipt(json(), signer: stranger), "chain")
    }

    func testReceiptForAnotherPackageIsRefused() async throws {
        await assertRefused(try receipt(json(key: "000.00.20.H13,2026/11/21,126/QĐ-UBND")), "key")
        await assertRefused(try receipt(json(sha256: String(repeating: "cd", count: 32))), "SHA-256")
        await assertRefused(try receipt(json(size: 48214)), "size")
    }

    func testTamperedReceiptIsRefused() async throws {
        var der = try receipt(json())
        // Change one digit of the size inside the signed content.
        let needle = Array("48213".utf8)
        let index = try XCTUnwrap((0...(der.count - needle.count)).first { Array(der[$0..<$0 + needle.count]) == needle })
        der[index + 4] = UInt8(ascii: "4")
        await assertRefused(der, "signature")
        await assertRefused(Array(der.prefix(der.count / 2)), "CMS")
    }

    func assertRefused(_ der: [UInt8], _ hint: String, line: UInt = #line) async {
        do {
            _ = try await ReceiptVerifier.verify(der, expected: expected, hubRoots: try roots())
            XCTFail("accepted a bad receipt (\(hint))", line: line)
        } catch let error as RelayError {
            XCTAssertEqual(error.code, .receiptInvalid, line: line)
            XCTAssertEqual(error.kind, .untrusted, line: line)
            XCTAssertTrue(error.message.contains(" / "), "Vietnamese / English: \(error.message)", line: line)
        } catch {
            XCTFail("unexpected error \(error)", line: line)
        }
    }
}

struct OpenSSLFailure: Error { let output: String }
