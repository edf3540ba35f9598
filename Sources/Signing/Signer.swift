import X509

/// What GatewayCore signs with: a key it never sees (a token's, or a key file's for development
/// and the demo) and the certificates that go with it. CMS, PAdES and XMLDSig code builds the
/// bytes to sign, hashes them, and hands the digest here.
package protocol Signer: Sendable {
    /// The signer's certificate first, then the chain towards (not including) the trust anchor.
    var certificateChain: [Certificate] { get }
    var keyType: SignerKeyType { get }
    /// Signs a digest made with `algorithm.digest`. RSA answers the raw signature (modulus-sized),
    /// ECDSA answers DER `ECDSA-Sig-Value` (RFC 5480 / X9.62), as CMS and XMLDSig-to-DER need.
    func sign(digest: [UInt8], algorithm: SignatureAlgorithm) async throws -> [UInt8]
}

extension Signer {
    package var certificate: Certificate { certificateChain[0] }
}

/// Why a signer refused before any key operation.
package enum SignerError: Error, Sendable, Equatable, CustomStringConvertible {
    case algorithmNotSupported(SignatureAlgorithm, key: SignerKeyType)
    case digestLength(expected: Int, actual: Int)
    case keyFile(String)
    case keyDoesNotMatchCertificate

    package var description: String {
        switch self {
        case .algorithmNotSupported(let algorithm, let key):
            "Khóa \(key) không ký được theo \(algorithm) / a \(key) key cannot sign with \(algorithm)"
        case .digestLength(let expected, let actual):
            "Độ dài giá trị băm sai: cần \(expected) byte, nhận \(actual) / wrong digest length: \(actual) bytes, \(expected) expected"
        case .keyFile(let reason):
            "Không đọc được tệp khóa / cannot read the key file: \(reason)"
        case .keyDoesNotMatchCertificate:
            "Khóa bí mật không khớp với chứng thư số / the private key does not match the certificate"
        }
    }
}
