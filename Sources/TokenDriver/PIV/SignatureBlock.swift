/// What the host hands the card to sign: the card only does the private-key operation, so for
/// RSA the host builds the EMSA-PKCS1-v1_5 block (RFC 8017 §9.2) around the DigestInfo, and for
/// ECDSA it gives the digest cut to the curve's size (FIPS 186-4 §6.4: leftmost bits).
public enum DigestAlgorithm: String, Sendable, CaseIterable, Codable {
    case sha256, sha384, sha512

    public var length: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    /// DER of `DigestInfo ::= SEQUENCE { AlgorithmIdentifier (with NULL), OCTET STRING }` without
    /// the digest itself (RFC 8017 §9.2, note 1).
    public var digestInfoPrefix: [UInt8] {
        switch self {
        case .sha256: [0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]
        case .sha384: [0x30, 0x41, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30]
        case .sha512: [0x30, 0x51, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40]
        }
    }
}

public enum SignatureBlock {
    public enum Failure: Error, Equatable, Sendable {
        case digestLength(expected: Int, actual: Int)
    }

    /// The challenge for GENERAL AUTHENTICATE.
    public static func challenge(digest: [UInt8], digestAlgorithm: DigestAlgorithm, keyAlgorithm: PIV.Algorithm) throws(Failure) -> [UInt8] {
        guard digest.count == digestAlgorithm.length else {
            throw .digestLength(expected: digestAlgorithm.length, actual: digest.count)
        }
        switch keyAlgorithm {
        case .rsa2048:
            let info = digestAlgorithm.digestInfoPrefix + digest
            let padding = keyAlgorithm.challengeLength - info.count - 3
            return [0x00, 0x01] + [UInt8](repeating: 0xFF, count: padding) + [0x00] + info
        case .eccP256, .eccP384:
            let size = keyAlgorithm.challengeLength
            return digest.count >= size ? Array(digest.prefix(size)) : [UInt8](repeating: 0, count: size - digest.count) + digest
        }
    }
}
