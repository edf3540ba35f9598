import CLibXML2
import X509

/// The one entry through which both the fuzzer (fuzz/FuzzXMLDSig.swift, scripts/fuzz-parsers
/// xmldsig) and the corpus replay test (Tests/EdXMLTests/FuzzCorpusTests.swift) feed bytes to
/// XML-signature checking. A received package and its signatures are untrusted input: any byte
/// string must give an EdXMLError or a verdict per signature, never a trap.
package enum SignatureFuzzing {
    package static func checkOne(_ bytes: [UInt8]) async {
        var limits = ReadLimits()
        limits.maxAttachmentBytes = 1 << 20
        // Attachments kept as text, as when signatures are checked: the digest streams them.
        guard let parsed = try? SafeParser.parse(bytes: bytes, limits: limits, output: .discard, keepAttachmentText: true) else { return }
        _ = await SignatureVerifier.verifyAll(parsed, trustRoots: nil)
        // A mutated package almost never keeps its digest, which is where checking stops: the
        // steps behind that gate are driven directly too (SignedInfo's canonical form, the
        // certificates and the raw ECDSA value).
        let ds = XMLSignature.dsig
        for signature in SignatureVerifier.signatureElements(parsed.tree) {
            if let signedInfo = signature.child(named: "SignedInfo", in: ds) {
                for method in [Canonicalizer.Method.inclusive, .exclusive] {
                    try? Canonicalizer.canonicalize(parsed.tree.document, nodes: .subtree(signedInfo), method: method) { _ in }
                }
            }
            if let value = SignatureVerifier.decodeBase64(signature.child(named: "SignatureValue", in: ds)?.textContent) {
                _ = SignatureVerifier.derECDSA(fromRaw: value)
            }
            for data in signature.child(named: "KeyInfo", in: ds)?.children(named: "X509Data", in: ds) ?? [] {
                for text in data.children(named: "X509Certificate", in: ds) {
                    if let der = SignatureVerifier.decodeBase64(text.textContent) { _ = try? Certificate(derEncoded: der) }
                }
            }
        }
    }
}
