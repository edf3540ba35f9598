import CLibXML2
import Crypto
import FoundationEssentials
import Signing
import X509

/// XMLDSig enveloped signatures over a whole package (`Reference URI=""`).
///
/// Signing: the `Signature` element is put in place first (with the whitespace around it), then
/// the reference digest is taken over the document without that element (the enveloped-signature
/// transform), canonicalized with exclusive C14N; then `SignedInfo` is canonicalized the same way,
/// hashed, and signed by the `Signer`. Attachments stream through the digest (see `Placeholders`).
enum XMLSignature {
    static let dsig = "http://www.w3.org/2000/09/xmldsig#"
    static let envelopedTransform = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

    /// What a digest or signature method URI means. SHA-1 ones are recognised so legacy
    /// packages can be checked, and reported as weak.
    enum Digest: String, CaseIterable {
        case sha1 = "http://www.w3.org/2000/09/xmldsig#sha1"
        case sha256 = "http://www.w3.org/2001/04/xmlenc#sha256"
        case sha384 = "http://www.w3.org/2001/04/xmldsig-more#sha384"
        case sha512 = "http://www.w3.org/2001/04/xmlenc#sha512"

        var isWeak: Bool { self == .sha1 }

        func hasher() -> StreamingHasher {
            switch self {
            case .sha1: .legacySHA1()
            case .sha256: StreamingHasher(.sha256)
            case .sha384: StreamingHasher(.sha384)
            case .sha512: StreamingHasher(.sha512)
            }
        }
    }

    enum Method: String, CaseIterable {
        case rsaSHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
        case rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        case rsaSHA384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
        case rsaSHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
        case ecdsaSHA1 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"
        case ecdsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
        case ecdsaSHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
        case ecdsaSHA512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"

        var isWeak: Bool { self == .rsaSHA1 || self == .ecdsaSHA1 }
        var isECDSA: Bool { [.ecdsaSHA1, .ecdsaSHA256, .ecdsaSHA384, .ecdsaSHA512].contains(self) }

        var certificateAlgorithm: Certificate.SignatureAlgorithm? {
            switch self {
            case .rsaSHA1: .sha1WithRSAEncryption
            case .rsaSHA256: .sha256WithRSAEncryption
            case .rsaSHA384: .sha384WithRSAEncryption
            case .rsaSHA512: .sha512WithRSAEncryption
            case .ecdsaSHA1: nil  // swift-certificates has no ECDSA-SHA1; refused as unsupported
            case .ecdsaSHA256: .ecdsaWithSHA256
            case .ecdsaSHA384: .ecdsaWithSHA384
            case .ecdsaSHA512: .ecdsaWithSHA512
            }
        }

        init?(_ algorithm: SignatureAlgorithm) {
            switch algorithm {
            case .rsaPKCS1SHA256: self = .rsaSHA256
            case .rsaPKCS1SHA384: self = .rsaSHA384
            case .rsaPKCS1SHA512: self = .rsaSHA512
            case .ecdsaSHA256: self = .ecdsaSHA256
            case .ecdsaSHA384: self = .ecdsaSHA384
            case .ecdsaSHA512: self = .ecdsaSHA512
            default: return nil  // RSA-PSS in XMLDSig needs RFC 6931 parameters; not offered
            }
        }
    }

    // MARK: - Signing

    /// Adds a signature to `tree` as the last child of `header` (`edXMLHeader`).
    /// `expand(index, hasher)` feeds attachment `index`'s base64 text to the digest.
    static func sign(tree: XMLTree, builder: TreeBuilder, header: xmlNodePtr, signer: any Signer,
                     expand: @escaping (Int, inout StreamingHasher) throws -> Void, placeholders: Placeholders) async throws {
        let algorithm = signer.keyType.algorithms.first { Method($0) != nil }!
        let method = Method(algorithm)!
        let b = builder
        let signature = b.element("Signature", namespace: nil, in: header)
        let dsNamespace = xmlNewNs(signature, dsig, nil)
        xmlSetNs(signature, dsNamespace)
        func ds(_ name: String, in parent: xmlNodePtr, algorithm: String? = nil) -> xmlNodePtr {
            let node = b.element(name, namespace: dsNamespace, in: parent)
            if let algorithm { xmlNewProp(node, "Algorithm", algorithm) }
            return node
        }
        let signedInfo = ds("SignedInfo", in: signature)
        _ = ds("CanonicalizationMethod", in: signedInfo, algorithm: Canonicalizer.Method.exclusive.rawValue)
        _ = ds("SignatureMethod", in: signedInfo, algorithm: method.rawValue)
        let reference = ds("Reference", in: signedInfo)
        xmlNewProp(reference, "URI", "")
        let transforms = ds("Transforms", in: reference)
        _ = ds("Transform", in: transforms, algorithm: envelopedTransform)
        _ = ds("Transform", in: transforms, algorithm: Canonicalizer.Method.exclusive.rawValue)
        _ = ds("DigestMethod", in: reference, algorithm: Digest.sha256.rawValue)
        let digestValue = ds("DigestValue", in: reference)
        let signatureValue = ds("SignatureValue", in: signature)
        let keyInfo = ds("KeyInfo", in: signature)
        let x509Data = ds("X509Data", in: keyInfo)
        var certificates: [xmlNodePtr] = []
        for _ in signer.certificateChain { certificates.append(ds("X509Certificate", in: x509Data)) }
        b.closeAll(tree.root!)

        for (node, certificate) in zip(certificates, signer.certificateChain) {
            xmlNodeAddContent(node, Data(try certificate.serializeAsPEM().derBytes).base64EncodedString())
        }
        let digest = try referenceDigest(tree: tree, excluding: signature, method: .exclusive, digest: .sha256,
                                         placeholders: placeholders, expand: expand)
        xmlNodeAddContent(digestValue, Data(digest).base64EncodedString())

        var signedInfoHash = StreamingHasher(algorithm.digest)
        try Canonicalizer.canonicalize(tree.document, nodes: .subtree(signedInfo), method: .exclusive) { signedInfoHash.update($0) }
        var value = try await signer.sign(digest: signedInfoHash.finalize(), algorithm: algorithm)
        if method.isECDSA {
            // The signer answers DER ECDSA-Sig-Value; XMLDSig wants r || s (RFC 4050 / RFC 6931).
            value = try rawECDSA(fromDER: value, keyType: signer.keyType)
        }
        xmlNodeAddContent(signatureValue, Data(value).base64EncodedString())
    }

    /// The digest of the whole document minus `excluding`, canonicalized by `method`.
    static func referenceDigest(tree: XMLTree, excluding: xmlNodePtr, method: Canonicalizer.Method, digest: Digest,
                                placeholders: Placeholders, expand: @escaping (Int, inout StreamingHasher) throws -> Void) throws -> [UInt8] {
        let box = HasherBox(digest.hasher())
        var filter = PlaceholderFilter(placeholders: placeholders, sink: { box.hasher.update($0) }, expand: { index in
            try expand(index, &box.hasher)
        })
        try Canonicalizer.canonicalize(tree.document, nodes: .allExcept(excluding), method: method) { bytes in
            try filter.write(bytes)
        }
        try filter.finish()
        return box.hasher.finalize()
    }

    static func rawECDSA(fromDER der: [UInt8], keyType: SignerKeyType) throws -> [UInt8] {
        switch keyType {
        case .ecdsaP256: Array(try P256.Signing.ECDSASignature(derRepresentation: der).rawRepresentation)
        case .ecdsaP384: Array(try P384.Signing.ECDSASignature(derRepresentation: der).rawRepresentation)
        case .rsa: der
        }
    }

    final class HasherBox {
        var hasher: StreamingHasher
        init(_ hasher: StreamingHasher) { self.hasher = hasher }
    }
}
