import Foundation
import TestSupport
import XCTest
import Signing
@testable import TokenDriver

final class PIVTests: XCTestCase {
    func testCommandVectors() throws {
        XCTAssertEqual(try PIV.select().encoded(), [0x00, 0xA4, 0x04, 0x00, 0x0B] + PIV.applicationID + [0x00])
        XCTAssertEqual(try PIV.getData(PIV.Slot.signature.certificateObject).encoded(),
                       [0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xC1, 0x0A, 0x00])
        XCTAssertEqual(try PIV.getData(PIV.chuidObject).encoded(), [0x00, 0xCB, 0x3F, 0xFF, 0x05, 0x5C, 0x03, 0x5F, 0xC1, 0x02, 0x00])
        XCTAssertEqual(try PIV.verify(try PIN("123456")).encoded(),
                       [0x00, 0x20, 0x00, 0x80, 0x08, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0xFF, 0xFF])
        XCTAssertEqual(try PIV.pinStatus().encoded(), [0x00, 0x20, 0x00, 0x80])
        XCTAssertEqual(PIV.Slot.allCases.map(\.keyReference), [0x9A, 0x9C, 0x9D, 0x9E])
    }

    func testSignCommandForECDSAIsShortAndForRSANeedsExtendedOrChaining() throws {
        let ecdsa = PIV.sign(Array(repeating: 0x11, count: 32), algorithm: .eccP256, slot: .signature)
        XCTAssertEqual(try ecdsa.encoded(), [0x00, 0x87, 0x11, 0x9C, 0x26, 0x7C, 0x24, 0x82, 0x00, 0x81, 0x20] + Array(repeating: 0x11, count: 32) + [0x00])
        let rsa = PIV.sign(Array(repeating: 0x22, count: 256), algorithm: .rsa2048, slot: .authentication)
        XCTAssertEqual(rsa.data.prefix(8), [0x7C, 0x82, 0x01, 0x06, 0x82, 0x00, 0x81, 0x82])
        XCTAssertFalse(rsa.fitsShortForm)
        let chain = rsa.chained()
        XCTAssertEqual(chain.count, 2)
        XCTAssertEqual(chain.map(\.cla), [0x10, 0x00])
        XCTAssertEqual(chain.flatMap(\.data), rsa.data)
    }

    func testPINFormatIsCheckedBeforeSendingAndNeverShown() throws {
        XCTAssertThrowsError(try PIN("12345")) { XCTAssertEqual($0 as? PIN.FormatError, .wrongLength(5)) }
        XCTAssertThrowsError(try PIN("123456789")) { XCTAssertEqual($0 as? PIN.FormatError, .wrongLength(9)) }
        XCTAssertThrowsError(try PIN("12a456")) { XCTAssertEqual($0 as? PIN.FormatError, .notDigits) }
        XCTAssertThrowsError(try PIN("１２３４５６")) { XCTAssertEqual($0 as? PIN.FormatError, .notDigits) }  // full-width digits
        let pin = try PIN("87654321")
        XCTAssertEqual("\(pin)", "PIN(redacted)")
        XCTAssertEqual(String(reflecting: pin), "PIN(redacted)")
        let trace = APDUTrace.describe(PIV.verify(pin))
        XCTAssertEqual(trace, "00200080 [8 bytes redacted]")
        XCTAssertFalse(trace.contains("3837"))
        XCTAssertEqual(APDUTrace.describe(PIV.getData([0x5F, 0xC1, 0x05])), "00CB3FFF 5C035FC105 Le=256")
        XCTAssertEqual(APDUTrace.describe(ResponseAPDU(status: .pinIncorrect(triesLeft: 2))), "63C2 PIN incorrect, 2 tries left")
    }

    func testPINPolicyNeverSpendsTheLastTryUnlessForced() {
        XCTAssertEqual(PINPolicy.decide(status: .pinIncorrect(triesLeft: 3), force: false), .proceed)
        XCTAssertEqual(PINPolicy.decide(status: .pinIncorrect(triesLeft: 2), force: false), .proceed)
        XCTAssertEqual(PINPolicy.decide(status: .pinIncorrect(triesLeft: 1), force: false), .refuseLastTry)
        XCTAssertEqual(PINPolicy.decide(status: .pinIncorrect(triesLeft: 1), force: true), .proceed)
        XCTAssertEqual(PINPolicy.decide(status: .pinIncorrect(triesLeft: 0), force: true), .blocked)
        XCTAssertEqual(PINPolicy.decide(status: .authenticationBlocked, force: true), .blocked)
        XCTAssertEqual(PINPolicy.decide(status: .success, force: false), .proceed)
    }

    func testAuthenticateResponseParsingAndEveryTruncation() throws {
        let signature = Array(repeating: UInt8(0x5A), count: 256)
        let response = TLV(tag: 0x7C, value: TLV(tag: 0x82, value: signature).encoded).encoded
        XCTAssertEqual(try PIV.signature(fromAuthenticateResponse: response), signature)
        for cut in 0..<response.count {
            XCTAssertThrowsError(try PIV.signature(fromAuthenticateResponse: Array(response.prefix(cut))), "\(cut)")
        }
        XCTAssertThrowsError(try PIV.signature(fromAuthenticateResponse: TLV(tag: 0x7C, value: TLV(tag: 0x81, value: [1]).encoded).encoded)) {
            XCTAssertEqual($0 as? PIV.ObjectError, .missing("82 response"))
        }
    }

    func testCertificateObjectAndItsCompressionFlag() throws {
        let der = Array(repeating: UInt8(0x30), count: 40)
        let plain = TLV(tag: 0x53, value: TLV(tag: 0x70, value: der).encoded + [0x71, 0x01, 0x00, 0xFE, 0x00]).encoded
        XCTAssertEqual(try PIV.certificateObject(plain), .init(certificate: der, isCompressed: false))
        let compressed = TLV(tag: 0x53, value: TLV(tag: 0x70, value: der).encoded + [0x71, 0x01, 0x01]).encoded
        XCTAssertEqual(try PIV.certificateObject(compressed).isCompressed, true)
        XCTAssertThrowsError(try PIV.certificateObject(TLV(tag: 0x53, value: [0x71, 0x01, 0x00]).encoded))
        for cut in 0..<plain.count { XCTAssertThrowsError(try PIV.certificateObject(Array(plain.prefix(cut))), "\(cut)") }
    }

    func testECDSAChallengeIsTheDigestCutToTheCurve() throws {
        let digest384 = (0..<48).map { UInt8($0) }
        XCTAssertEqual(try SignatureBlock.challenge(digest: digest384, algorithm: .ecdsaSHA384, keyAlgorithm: .eccP256), Array(digest384.prefix(32)))
        XCTAssertEqual(try SignatureBlock.challenge(digest: digest384, algorithm: .ecdsaSHA384, keyAlgorithm: .eccP384), digest384)
        let digest256 = (0..<32).map { UInt8($0) }
        XCTAssertEqual(try SignatureBlock.challenge(digest: digest256, algorithm: .ecdsaSHA256, keyAlgorithm: .eccP384), Array(repeating: 0, count: 16) + digest256)
        XCTAssertThrowsError(try SignatureBlock.challenge(digest: [1, 2], algorithm: .ecdsaSHA256, keyAlgorithm: .eccP256)) {
            XCTAssertEqual($0 as? SignerError, .digestLength(expected: 32, actual: 2))
        }
        XCTAssertThrowsError(try SignatureBlock.challenge(digest: digest256, algorithm: .rsaPKCS1SHA256, keyAlgorithm: .eccP256)) {
            XCTAssertEqual($0 as? SignerError, .algorithmNotSupported(.rsaPKCS1SHA256, key: .ecdsaP256))
        }
    }

    /// The RSA block judged by an independent implementation: Python's `cryptography` makes a key,
    /// applies the raw private-key operation to our block (what the card does) and verifies the
    /// result as a standard PKCS#1 v1.5 signature over the message.
    func testRSABlockVerifiesAsPKCS1v15WithAnIndependentLibrary() throws {
        let message = Array("Quyết định số 123/QĐ-UBND".utf8)
        for (algorithm, scheme) in [(DigestAlgorithm.sha256, SignatureAlgorithm.rsaPKCS1SHA256), (.sha384, .rsaPKCS1SHA384), (.sha512, .rsaPKCS1SHA512)] {
            let digest = try digestWithOpenSSL(message, algorithm)
            let block = try SignatureBlock.challenge(digest: digest, algorithm: scheme, keyAlgorithm: .rsa2048)
            XCTAssertEqual(block.count, 256)
            XCTAssertEqual(Array(block.prefix(2)), [0x00, 0x01])
            let script = """
                import sys
                from cryptography.hazmat.primitives.asymmetric import rsa, padding
                from cryptography.hazmat.primitives import hashes
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                n = key.private_numbers().public_numbers.n; d = key.private_numbers().d
                block = int(sys.argv[1], 16)
                signature = pow(block, d, n).to_bytes(256, "big")
                key.public_key().verify(signature, bytes.fromhex(sys.argv[2]), padding.PKCS1v15(), hashes.\(algorithm.rawValue.uppercased())())
                print("verified")
                """
            let result = try python(script, [hex(block), hex(message)])
            XCTAssertEqual(result, "verified", algorithm.rawValue)
        }
    }

    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func digestWithOpenSSL(_ message: [UInt8], _ algorithm: DigestAlgorithm) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["dgst", "-\(algorithm.rawValue)", "-binary"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl")
        try process.run()
        input.fileHandleForWriting.write(Data(message))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(data)
    }

    func python(_ script: String, _ arguments: [String]) throws -> String {
        try XCTSkipUnless(runProgram("/usr/bin/env", ["python3", "-c", "import cryptography"]).status == 0,
                          "needs python3 with the cryptography package (pip install cryptography)")
        let result = runProgram("/usr/bin/env", ["python3", "-c", script] + arguments)
        XCTAssertEqual(result.status, 0, result.err)
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
