import Crypto
import Signing
import XCTest

/// `ECDSASignatureDER.fromRaw` (written by hand so a one-shot `gateway-token sign` needs no
/// swift-crypto generic at its start) gives byte for byte swift-crypto's `derRepresentation`, for
/// every curve the tokens and XMLDSig use, and for the values whose encoding differs: leading
/// zero bytes dropped, a 0x00 before a high bit, zero itself, P-521's long-form length.
final class ECDSASignatureDERTests: XCTestCase {
    func testTheSameBytesAsSwiftCrypto() throws {
        var generator = SystemRandomNumberGenerator()
        for size in [32, 48, 66] {
            func crypto(_ raw: [UInt8]) throws -> [UInt8] {
                switch size {
                case 32: Array(try P256.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
                case 48: Array(try P384.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
                default: Array(try P521.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
                }
            }
            let top: UInt8 = size == 66 ? 0x01 : 0xFF  // P-521's first byte holds one bit
            var halves: [[UInt8]] = [
                [UInt8](repeating: 0, count: size), [UInt8](repeating: 0, count: size - 1) + [1],
                [top] + [UInt8](repeating: 0xFF, count: size - 1), [0x7F] + [UInt8](repeating: 0, count: size - 1),
                [0x80 & top] + [UInt8](repeating: 1, count: size - 1), [0, 0, 0x80] + [UInt8](repeating: 2, count: size - 3),
            ]
            for _ in 0..<200 {
                var half = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
                half[0] &= top
                if Bool.random(using: &generator) { half[0] = 0 }
                halves.append(half)
            }
            for r in halves {
                for s in halves.shuffled(using: &generator).prefix(3) {
                    XCTAssertEqual(ECDSASignatureDER.fromRaw(r + s), try crypto(r + s), "\(size): \(r + s)")
                }
            }
        }
        XCTAssertNil(ECDSASignatureDER.fromRaw([]))
        XCTAssertNil(ECDSASignatureDER.fromRaw([1, 2, 3]))
    }
}
