import CLibXML2
import Crypto
import Signing
import FoundationEssentials
import X509
#if canImport(Glibc)
import Glibc
#endif

/// What checking one `Signature` found.
package struct SignatureCheck: Sendable, Codable, Equatable {
    package enum Outcome: String, Sendable, Codable {
        /// The digest and the signature value are right, with current algorithms.
        case valid
        /// Right, but made with SHA-1: accepted as evidence of who sent it, flagged for replacement.
        case weak
        /// Something does not match, or the signature cannot be checked: the reason says which.
        case invalid
    }

    package enum Trust: String, Sendable, Codable {
        case trusted, untrusted, notChecked = "not_checked"
    }

    package var outcome: Outcome
    package var reasons: [String]
    package var signatureMethod: String?
    package var digestMethod: String?
    package var signer: String?
    package var trust: Trust
    package var trustDetail: String?
}

/// Checks XMLDSig signatures over whole packages (Reference URI=""), with enveloped-signature
/// and C14N transforms, RSA or ECDSA, SHA-1 (weak) to SHA-512.
package enum SignatureVerifier {
    static func verifyAll(_ parsed: ParsedXML, trustRoots: [Certificate]?) async -> [SignatureCheck] {
        var checks: [SignatureCheck] = []
        for node in signatureElements(parsed.tree) {
            checks.append(await verify(node, parsed: parsed, trustRoots: trustRoots))
        }
        return checks
    }

    /// Every `ds:Signature` in the package, wherever the producer put it.
    static func signatureElements(_ tree: XMLTree) -> [xmlNodePtr] {
        var found: [xmlNodePtr] = []
        func walk(_ node: xmlNodePtr) {
            if node.isNamed("Signature", in: XMLSignature.dsig) { found.append(node); return }
            for child in node.childElements { walk(child) }
        }
        if let root = tree.root { walk(root) }
        return found
    }

    static func verify(_ signature: xmlNodePtr, parsed: ParsedXML, trustRoots: [Certificate]?) async -> SignatureCheck {
        var check = SignatureCheck(outcome: .invalid, reasons: [], trust: trustRoots == nil ? .notChecked : .untrusted)
        func fail(_ reason: String) -> SignatureCheck {
            check.outcome = .invalid
            check.reasons.append(reason)
            return check
        }
        let ds = XMLSignature.dsig
        guard let signedInfo = signature.child(named: "SignedInfo", in: ds) else { return fail("thiếu SignedInfo / no SignedInfo") }
        guard let c14nText = signedInfo.child(named: "CanonicalizationMethod", in: ds)?.attribute("Algorithm"),
              let c14n = Canonicalizer.Method(rawValue: c14nText) else {
            return fail("phương pháp chuẩn hóa không hỗ trợ / unsupported CanonicalizationMethod")
        }
        let methodText = signedInfo.child(named: "SignatureMethod", in: ds)?.attribute("Algorithm")
        check.signatureMethod = methodText
        guard let methodText, let method = XMLSignature.Method(rawValue: methodText), let certificateAlgorithm = method.certificateAlgorithm else {
            return fail("thuật toán ký không hỗ trợ / unsupported SignatureMethod \(methodText ?? "(none)")")
        }
        let references = signedInfo.children(named: "Reference", in: ds)
        guard references.count == 1, let reference = references.first else {
            return fail("cần đúng một Reference / exactly one Reference is supported, found \(references.count)")
        }
        guard reference.attribute("URI") == "" else {
            return fail("chỉ hỗ trợ Reference URI=\"\" (cả gói) / only Reference URI=\"\" (the whole package) is supported")
        }
        // Transforms: enveloped-signature, then optionally one C14N; none else.
        var referenceC14N = Canonicalizer.Method.inclusive   // XMLDSig §4.3.3.2: node-set to octets by C14N 1.0
        var sawEnveloped = false
        for transform in reference.child(named: "Transforms", in: ds)?.children(named: "Transform", in: ds) ?? [] {
            let algorithm = transform.attribute("Algorithm") ?? ""
            if algorithm == XMLSignature.envelopedTransform { sawEnveloped = true } else if let method = Canonicalizer.Method(rawValue: algorithm) {
                referenceC14N = method
            } else {
                return fail("phép biến đổi không hỗ trợ / unsupported Transform \(algorithm)")
            }
        }
        guard sawEnveloped else { return fail("thiếu phép biến đổi enveloped-signature / no enveloped-signature transform") }
        let digestText = reference.child(named: "DigestMethod", in: ds)?.attribute("Algorithm")
        check.digestMethod = digestText
        guard let digestText, let digest = XMLSignature.Digest(rawValue: digestText) else {
            return fail("thuật toán băm không hỗ trợ / unsupported DigestMethod \(digestText ?? "(none)")")
        }
        guard let expected = decodeBase64(reference.child(named: "DigestValue", in: ds)?.textContent) else {
            return fail("DigestValue không đọc được / unreadable DigestValue")
        }
        let actual: [UInt8]
        do {
            actual = try XMLSignature.referenceDigest(tree: parsed.tree, excluding: signature, method: referenceC14N, digest: digest,
                                                      placeholders: parsed.placeholders) { index, hasher in
                try streamCanonicalText(of: parsed.attachments[index], into: &hasher)
            }
        } catch {
            return fail("không tính được giá trị băm / cannot compute the digest: \(error)")
        }
        guard actual == expected else {
            return fail("giá trị băm không khớp: gói tin đã bị sửa sau khi ký / digest mismatch: the package changed after it was signed")
        }

        guard let signatureValue = decodeBase64(signature.child(named: "SignatureValue", in: ds)?.textContent) else {
            return fail("SignatureValue không đọc được / unreadable SignatureValue")
        }
        let certificates = (signature.child(named: "KeyInfo", in: ds)?.children(named: "X509Data", in: ds) ?? [])
            .flatMap { $0.children(named: "X509Certificate", in: ds) }
            .compactMap { decodeBase64($0.textContent) }
            .compactMap { try? Certificate(derEncoded: $0) }
        guard !certificates.isEmpty else { return fail("không có chứng thư trong KeyInfo / no certificate in KeyInfo") }

        var signedInfoBytes: [UInt8] = []
        do {
            try Canonicalizer.canonicalize(parsed.tree.document, nodes: .subtree(signedInfo), method: c14n) { signedInfoBytes.append(contentsOf: $0) }
        } catch {
            return fail("không chuẩn hóa được SignedInfo / cannot canonicalize SignedInfo: \(error)")
        }
        var signatureDER = signatureValue
        if method.isECDSA {
            guard let der = derECDSA(fromRaw: signatureValue) else { return fail("SignatureValue ECDSA sai độ dài / ECDSA SignatureValue of a wrong length") }
            signatureDER = der
        }
        guard let leaf = certificates.first(where: { $0.publicKey.isValidSignature(signatureDER, for: signedInfoBytes, signatureAlgorithm: certificateAlgorithm) }) else {
            return fail("chữ ký không đúng với chứng thư kèm theo / the signature does not verify with the enclosed certificate")
        }
        check.signer = leaf.subject.description
        check.outcome = (method.isWeak || digest.isWeak) ? .weak : .valid
        if check.outcome == .weak {
            check.reasons.append("dùng SHA-1, đã lỗi thời / uses SHA-1, which is deprecated")
        }

        if let trustRoots {
            var verifier = Verifier(rootCertificates: CertificateStore(trustRoots)) { RFC5280Policy(validationTime: Date()) }
            let intermediates = CertificateStore(certificates.filter { $0 != leaf })
            switch await verifier.validate(leaf: leaf, intermediates: intermediates) {
            case .validCertificate:
                check.trust = .trusted
            case .couldNotValidate(let failures):
                check.trust = .untrusted
                // No failures listed: no path to any anchor was found at all, nothing more to say
                // (an empty detail would show as "()" after the reason).
                check.trustDetail = failures.isEmpty ? nil : failures.map { "\($0.policyFailureReason)" }.joined(separator: "; ")
            }
        }
        return check
    }

    /// Feeds the attachment's text, as parsed, to the digest, escaped as C14N escapes text.
    static func streamCanonicalText(of attachment: DecodedAttachment, into hasher: inout StreamingHasher) throws {
        guard let path = attachment.textPath else { throw EdXMLError.signature("attachment text was not kept") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw EdXMLError.io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var escaped: [UInt8] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 { if errno == EINTR { continue }; throw EdXMLError.io(path: path, reason: String(cString: strerror(errno))) }
            if count == 0 { break }
            let chunk = buffer[0..<count]
            if chunk.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x0D }) {
                escaped.removeAll(keepingCapacity: true)
                for byte in chunk {
                    switch byte {
                    case 0x26: escaped += Array("&amp;".utf8)
                    case 0x3C: escaped += Array("&lt;".utf8)
                    case 0x3E: escaped += Array("&gt;".utf8)
                    case 0x0D: escaped += Array("&#xD;".utf8)
                    default: escaped.append(byte)
                    }
                }
                hasher.update(escaped)
            } else {
                chunk.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            }
        }
    }

    static func decodeBase64(_ text: String?) -> [UInt8]? {
        guard let text else { return nil }
        var decoder = Base64Decoder()
        var output: [UInt8] = []
        do {
            try Array(text.utf8).withUnsafeBytes { try decoder.decode($0, into: &output) }
            try decoder.finish()
        } catch { return nil }
        return output
    }

    /// r || s (each half the length) as DER ECDSA-Sig-Value, which swift-certificates checks.
    static func derECDSA(fromRaw raw: [UInt8]) -> [UInt8]? {
        [64, 96, 132].contains(raw.count) ? ECDSASignatureDER.fromRaw(raw) : nil  // P-256, P-384, P-521
    }
}

extension SignatureVerifier {
    /// Every certificate in a PEM text (a bundle of trusted roots).
    package static func certificates(fromPEM text: String) throws -> [Certificate] {
        let end = "-----END CERTIFICATE-----"
        var certificates: [Certificate] = []
        var rest = Substring(text)
        while let begin = rest.range(of: "-----BEGIN CERTIFICATE-----"), let close = rest.range(of: end, range: begin.upperBound..<rest.endIndex) {
            certificates.append(try Certificate(pemEncoded: String(rest[begin.lowerBound..<close.upperBound])))
            rest = rest[close.upperBound...]
        }
        return certificates
    }
}
