import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import _CryptoExtras
import SwiftASN1
import X509

/// A signer whose key is a PEM file on disk: for development, the demo and tests, never for
/// production documents (the key is readable by whoever reads the file). It performs the same
/// operation a token does — the raw private-key step over a block the host built — so code
/// written against it behaves the same with a token.
package struct SoftwareKeySigner: Signer {
    package let certificateChain: [Certificate]
    package let keyType: SignerKeyType
    private let key: Key

    /// `@unchecked`: swift-crypto 3.12 does not mark its EC private keys Sendable, though they are
    /// immutable and BoringSSL signs with a shared key from several threads safely.
    enum Key: @unchecked Sendable {
        // The raw RSA private operation (m^d mod n) is exposed by swift-crypto only through its
        // RFC 9474 blind-signing key; the hash parameter of that type plays no part in it.
        case rsa(_RSA.BlindSigning.PrivateKey<SHA384>)
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
    }

    /// `keyPEM`: a PKCS#8 or traditional RSA/EC private key. `chainPEM`: the signer's certificate
    /// first, then its issuers.
    package init(keyPEM: String, chainPEM: String) throws {
        let chain: [Certificate]
        do {
            chain = try PEMDocument.parseMultiple(pemString: chainPEM).map { try Certificate(pemDocument: $0) }
        } catch {
            throw SignerError.keyFile("chứng thư không hợp lệ / bad certificate PEM: \(error)")
        }
        guard let leaf = chain.first else { throw SignerError.keyFile("không có chứng thư / no certificate in the chain file") }
        if let rsa = try? _RSA.Signing.PrivateKey(pemRepresentation: keyPEM) {
            guard Certificate.PublicKey(rsa.publicKey) == leaf.publicKey else { throw SignerError.keyDoesNotMatchCertificate }
            key = .rsa(try _RSA.BlindSigning.PrivateKey<SHA384>(pemRepresentation: keyPEM))
            keyType = .rsa(bits: rsa.keySizeInBits)
        } else if let p256 = try? P256.Signing.PrivateKey(pemRepresentation: keyPEM) {
            guard Certificate.PublicKey(p256.publicKey) == leaf.publicKey else { throw SignerError.keyDoesNotMatchCertificate }
            key = .p256(p256)
            keyType = .ecdsaP256
        } else if let p384 = try? P384.Signing.PrivateKey(pemRepresentation: keyPEM) {
            guard Certificate.PublicKey(p384.publicKey) == leaf.publicKey else { throw SignerError.keyDoesNotMatchCertificate }
            key = .p384(p384)
            keyType = .ecdsaP384
        } else {
            throw SignerError.keyFile("không phải khóa RSA, P-256 hay P-384 / not an RSA, P-256 or P-384 private key")
        }
        certificateChain = chain
    }

    package init(keyFile: String, chainFile: String) throws {
        func read(_ path: String) throws -> String {
            do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw SignerError.keyFile("\(path): không đọc được tệp / cannot read the file")
            }
        }
        try self.init(keyPEM: read(keyFile), chainPEM: read(chainFile))
    }

    package func sign(digest: [UInt8], algorithm: SignatureAlgorithm) async throws -> [UInt8] {
        try signNow(digest: digest, algorithm: algorithm)
    }

    /// The synchronous operation (a software key does not block on a device).
    package func signNow(digest: [UInt8], algorithm: SignatureAlgorithm) throws -> [UInt8] {
        guard keyType.algorithms.contains(algorithm) else { throw SignerError.algorithmNotSupported(algorithm, key: keyType) }
        guard digest.count == algorithm.digest.length else {
            throw SignerError.digestLength(expected: algorithm.digest.length, actual: digest.count)
        }
        switch key {
        case .rsa(let rsa):
            let block = try RSAPadding.block(for: algorithm, digest: digest, modulusBits: rsa.keySizeInBits)
            return Array(try rsa.blindSignature(for: block).rawRepresentation)
        case .p256(let p256):
            return Array(try p256.signature(for: SuppliedDigest(digest)).derRepresentation)
        case .p384(let p384):
            return Array(try p384.signature(for: SuppliedDigest(digest)).derRepresentation)
        }
    }
}

/// A digest computed elsewhere (the caller hashed a stream), in the shape swift-crypto's ECDSA
/// signing takes. ECDSA signs the bytes it is given, truncated to the curve's order size
/// (FIPS 186-5 §6.4.1), whatever the digest's declared type.
struct SuppliedDigest: Digest {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Required by the protocol; ECDSA signing reads the bytes, not this.
    static var byteCount: Int { 64 }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }

    func makeIterator() -> IndexingIterator<[UInt8]> { bytes.makeIterator() }

    var description: String { "SuppliedDigest(\(bytes.count) bytes)" }
}
