import Signing
import SwiftASN1

/// The object identifiers of CMS (RFC 5652), ESS (RFC 5035), PKCS #1 (RFC 8017), ECDSA (RFC 5758)
/// and the SHA-2 digests (RFC 5754) that the signatures we make and read use.
enum CMSOID {
    static let data: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 7, 1]
    static let signedData: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 7, 2]
    static let contentType: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 3]
    static let messageDigest: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 4]
    static let signingTime: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 5]
    static let signingCertificateV2: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 16, 2, 47]
    static let timeStampToken: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 16, 2, 14]

    static let sha256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 1]
    static let sha384: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 2]
    static let sha512: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 3]

    static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]
    static let sha256WithRSA: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 11]
    static let sha384WithRSA: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 12]
    static let sha512WithRSA: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 13]
    static let rsassaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 10]
    static let mgf1: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 8]
    static let ecdsaWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]
    static let ecdsaWithSHA384: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 3]
    static let ecdsaWithSHA512: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 4]

    static func digest(_ algorithm: DigestAlgorithm) -> ASN1ObjectIdentifier {
        switch algorithm {
        case .sha256: sha256
        case .sha384: sha384
        case .sha512: sha512
        }
    }

    static func digestIdentifier(_ algorithm: DigestAlgorithm) -> AlgorithmIdentifierDER {
        AlgorithmIdentifierDER(algorithm: digest(algorithm), parameters: nil)
    }

    /// The SignerInfo's signatureAlgorithm for a scheme.
    static func signatureIdentifier(_ algorithm: SignatureAlgorithm) throws -> AlgorithmIdentifierDER {
        switch algorithm {
        case .rsaPKCS1SHA256: return AlgorithmIdentifierDER(algorithm: sha256WithRSA, parameters: AlgorithmIdentifierDER.null)
        case .rsaPKCS1SHA384: return AlgorithmIdentifierDER(algorithm: sha384WithRSA, parameters: AlgorithmIdentifierDER.null)
        case .rsaPKCS1SHA512: return AlgorithmIdentifierDER(algorithm: sha512WithRSA, parameters: AlgorithmIdentifierDER.null)
        case .ecdsaSHA256: return AlgorithmIdentifierDER(algorithm: ecdsaWithSHA256, parameters: nil)
        case .ecdsaSHA384: return AlgorithmIdentifierDER(algorithm: ecdsaWithSHA384, parameters: nil)
        case .ecdsaSHA512: return AlgorithmIdentifierDER(algorithm: ecdsaWithSHA512, parameters: nil)
        case .rsaPSSSHA256, .rsaPSSSHA384, .rsaPSSSHA512:
            // RSASSA-PSS-params (RFC 4055 §3.1): the hash, MGF1 with the same hash, the salt
            // length (= digest length, what RSAPadding.pss uses); trailerField left at its default.
            let digest = digestIdentifier(algorithm.digest)
            var serializer = DER.Serializer()
            try serializer.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(digest, explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific)
                try coder.serialize(AlgorithmIdentifierDER(algorithm: mgf1, parameters: try DER.encode(digest)),
                                    explicitlyTaggedWithTagNumber: 1, tagClass: .contextSpecific)
                try coder.serialize(algorithm.digest.length, explicitlyTaggedWithTagNumber: 2, tagClass: .contextSpecific)
            }
            return AlgorithmIdentifierDER(algorithm: rsassaPSS, parameters: serializer.serializedBytes)
        }
    }
}
