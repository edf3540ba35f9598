import Signing

/// What the host hands the card to sign: the card only does the private-key operation, so for
/// RSA the host builds the whole block (PKCS#1 v1.5 or PSS, `RSAPadding`), and for ECDSA it gives
/// the digest cut to the curve's size (FIPS 186-4 §6.4: leftmost bits).
package enum SignatureBlock {
    /// The challenge for GENERAL AUTHENTICATE.
    static func challenge(digest: [UInt8], algorithm: SignatureAlgorithm, keyAlgorithm: PIV.Algorithm) throws(SignerError) -> [UInt8] {
        guard digest.count == algorithm.digest.length else {
            throw .digestLength(expected: algorithm.digest.length, actual: digest.count)
        }
        guard keyAlgorithm.keyType.algorithms.contains(algorithm) else {
            throw .algorithmNotSupported(algorithm, key: keyAlgorithm.keyType)
        }
        switch keyAlgorithm {
        case .rsa2048:
            return try RSAPadding.block(for: algorithm, digest: digest, modulusBits: 2048)
        case .eccP256, .eccP384:
            let size = keyAlgorithm.challengeLength
            return digest.count >= size ? Array(digest.prefix(size)) : [UInt8](repeating: 0, count: size - digest.count) + digest
        }
    }
}

extension PIV.Algorithm {
    package var keyType: SignerKeyType {
        switch self {
        case .rsa2048: .rsa(bits: 2048)
        case .eccP256: .ecdsaP256
        case .eccP384: .ecdsaP384
        }
    }
}
