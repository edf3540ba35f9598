/// The digest and signature algorithms the box signs with. Names are the ones the command line
/// and the configuration use (`rsa-pkcs1-sha256`, `ecdsa-sha256` …).
package enum DigestAlgorithm: String, Sendable, CaseIterable, Codable {
    case sha256, sha384, sha512

    package var length: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    /// DER of `DigestInfo ::= SEQUENCE { AlgorithmIdentifier (with NULL), OCTET STRING }` without
    /// the digest itself (RFC 8017 §9.2, note 1).
    package var digestInfoPrefix: [UInt8] {
        switch self {
        case .sha256: [0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]
        case .sha384: [0x30, 0x41, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30]
        case .sha512: [0x30, 0x51, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40]
        }
    }
}

/// A signature scheme: the key kind, the padding for RSA, and the digest signed.
package enum SignatureAlgorithm: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    case rsaPKCS1SHA256 = "rsa-pkcs1-sha256"
    case rsaPKCS1SHA384 = "rsa-pkcs1-sha384"
    case rsaPKCS1SHA512 = "rsa-pkcs1-sha512"
    case rsaPSSSHA256 = "rsa-pss-sha256"
    case rsaPSSSHA384 = "rsa-pss-sha384"
    case rsaPSSSHA512 = "rsa-pss-sha512"
    case ecdsaSHA256 = "ecdsa-sha256"
    case ecdsaSHA384 = "ecdsa-sha384"
    case ecdsaSHA512 = "ecdsa-sha512"

    package enum KeyKind: Sendable, Equatable { case rsa, ecdsa }

    package var keyKind: KeyKind {
        switch self {
        case .ecdsaSHA256, .ecdsaSHA384, .ecdsaSHA512: .ecdsa
        default: .rsa
        }
    }

    package var isPSS: Bool { [.rsaPSSSHA256, .rsaPSSSHA384, .rsaPSSSHA512].contains(self) }

    package var digest: DigestAlgorithm {
        switch self {
        case .rsaPKCS1SHA256, .rsaPSSSHA256, .ecdsaSHA256: .sha256
        case .rsaPKCS1SHA384, .rsaPSSSHA384, .ecdsaSHA384: .sha384
        case .rsaPKCS1SHA512, .rsaPSSSHA512, .ecdsaSHA512: .sha512
        }
    }

    package var description: String { rawValue }
}

/// The public key a signer holds, as far as choosing an algorithm needs to know.
package enum SignerKeyType: Sendable, Equatable, CustomStringConvertible {
    case rsa(bits: Int)
    case ecdsaP256
    case ecdsaP384

    /// The schemes this key can make, preferred first (PKCS#1 v1.5 first for RSA: it is what
    /// Vietnamese validators expect; PSS is offered for those who ask).
    package var algorithms: [SignatureAlgorithm] {
        switch self {
        case .rsa: [.rsaPKCS1SHA256, .rsaPKCS1SHA384, .rsaPKCS1SHA512, .rsaPSSSHA256, .rsaPSSSHA384, .rsaPSSSHA512]
        case .ecdsaP256: [.ecdsaSHA256, .ecdsaSHA384, .ecdsaSHA512]
        case .ecdsaP384: [.ecdsaSHA384, .ecdsaSHA256, .ecdsaSHA512]
        }
    }

    package var description: String {
        switch self {
        case .rsa(let bits): "RSA-\(bits)"
        case .ecdsaP256: "ECC P-256"
        case .ecdsaP384: "ECC P-384"
        }
    }
}
