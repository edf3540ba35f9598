import Foundation
import SwiftASN1
@_spi(FixedExpiryValidationTime) import X509

/// What is known of a certificate's revocation. "Unknown" is never folded into "good": a box
/// that is offline must say that it could not check.
package enum RevocationStatus: Sendable, Equatable {
    /// Every OCSP responder named in the chain answered "good" with a valid signed answer, or
    /// the leaf's current CRL signed by its issuer does not list it. `sources`: "OCSP url", "CRL url".
    case good(sources: [String])
    case revoked(reason: String)
    /// A responder or distribution point is named but could not be asked, or answered badly /
    /// "unknown" / with an out-of-date list.
    case unknown(reason: String)
    /// The certificate names neither an OCSP responder nor a CRL distribution point.
    case noSource

    /// A stable word for JSON and tests.
    package var word: String {
        switch self {
        case .good: "good"
        case .revoked: "revoked"
        case .unknown: "unknown"
        case .noSource: "not-checked"
        }
    }

    /// As a check line (Vietnamese / English).
    package var check: VerificationCheck {
        switch self {
        case .good(let sources):
            .init("revocation", .passed,
                  "chứng thư chưa bị thu hồi (\(sources.joined(separator: ", "))) / not revoked (\(sources.joined(separator: ", ")))")
        case .revoked(let reason):
            .init("revocation", .failed, "chứng thư ĐÃ BỊ THU HỒI / the certificate is REVOKED (\(reason))")
        case .unknown(let reason):
            .init("revocation", .failed,
                  "không xác định được tình trạng thu hồi / revocation status unknown: \(reason)")
        case .noSource:
            .init("revocation", .notChecked,
                  "chứng thư không ghi máy chủ OCSP hay CRL nào, không kiểm tra được thu hồi / "
                  + "the certificate names no OCSP responder or CRL: revocation not checked")
        }
    }
}

/// Asks the OCSP responders named in a chain (Authority Information Access) whether its
/// certificates are revoked — falling back to the leaf's CRL distribution points when the
/// certificate names no responder or the responder cannot be asked — using swift-certificates' `OCSPVerifierPolicy` for the protocol
/// (request with nonce, response signature by the issuer or its delegated responder, certID,
/// thisUpdate/nextUpdate, nonce echo). The policy in hard-failure mode collapses "revoked" and
/// "could not ask" into one failure; the requester below records what happened on the wire, and
/// the failure's reason tells a revocation apart, so the three outcomes stay distinct.
package struct RevocationChecker: Sendable {
    let fetcher: any TrustFetcher
    /// Definite answers reused for a while (the daemon's checkers); nil asks every time (the
    /// command line, which checks one file).
    let cache: RevocationCache?

    package init(fetcher: any TrustFetcher, cache: RevocationCache? = nil) {
        (self.fetcher, self.cache) = (fetcher, cache)
    }

    /// `roots` are the anchors the chain must reach (the chain itself is checked separately; a
    /// chain that does not validate gives `.unknown`). `chainTime` is when the chain must have
    /// been valid (the signing time); the OCSP answer is judged at `now` — it tells the present.
    package func status(of leaf: Certificate, roots: [Certificate], intermediates: [Certificate], chainTime: Date,
                       now: Date = Date()) async -> RevocationStatus {
        guard let cache, let key = RevocationCache.key(leaf, roots: roots) else {
            return await ask(of: leaf, roots: roots, intermediates: intermediates, chainTime: chainTime, now: now)
        }
        if let known = cache.status(for: key, now: now) { return known }
        let status = await ask(of: leaf, roots: roots, intermediates: intermediates, chainTime: chainTime, now: now)
        cache.store(status, for: key, now: now)
        return status
    }

    func ask(of leaf: Certificate, roots: [Certificate], intermediates: [Certificate], chainTime: Date, now: Date) async -> RevocationStatus {
        let crl = Self.crlDistributionPoints(leaf)
        if Self.ocspResponders(leaf).isEmpty, !intermediates.contains(where: { !Self.ocspResponders($0).isEmpty }) {
            if crl.isEmpty { return .noSource }
            return await crlStatus(of: leaf, points: crl, issuers: roots + intermediates, now: now)
        }
        let ocsp = await ocspStatus(of: leaf, roots: roots, intermediates: intermediates, chainTime: chainTime, now: now)
        // An OCSP responder that cannot be asked: the CRL, when there is one, may still answer.
        guard case .unknown(let reason) = ocsp, !crl.isEmpty else { return ocsp }
        let fallback = await crlStatus(of: leaf, points: crl, issuers: roots + intermediates, now: now)
        if case .unknown(let crlReason) = fallback { return .unknown(reason: "OCSP: \(reason); CRL: \(crlReason)") }
        return fallback
    }

    func ocspStatus(of leaf: Certificate, roots: [Certificate], intermediates: [Certificate], chainTime: Date,
                    now: Date) async -> RevocationStatus {
        let requester = RecordingRequester(fetcher: fetcher)
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(fixedExpiryValidationTime: chainTime)
            SigningCertificateUsagePolicy()
            OCSPVerifierPolicy(failureMode: .hard, requester: requester, fixedValidationTime: now)
        }
        let outcome = await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates))
        let asked = requester.asked
        switch outcome {
        case .validCertificate:
            return asked.isEmpty ? .noSource : .good(sources: asked.map { "OCSP \($0)" })
        case .couldNotValidate(let failures):
            let reasons = failures.map { "\($0.policyFailureReason)" }
            if let revoked = reasons.first(where: { $0.contains("revoked through OCSP") }) {
                return .revoked(reason: revoked)
            }
            if let error = requester.errors.first {
                return .unknown(reason: error)
            }
            return .unknown(reason: reasons.isEmpty ? "no chain" : Self.shorten(reasons.joined(separator: "; ")))
        }
    }

    /// The leaf against the CRLs of its distribution points: the first list that can be fetched,
    /// is signed by the leaf's issuer and is current decides. Only the leaf is checked by CRL
    /// (an intermediate's CRL comes from the root's operator and changes rarely; not done yet).
    func crlStatus(of leaf: Certificate, points: [String], issuers: [Certificate], now: Date) async -> RevocationStatus {
        let candidates = issuers.filter { $0.subject == leaf.issuer && $0.publicKey.isValidSignature(leaf.signature, for: leaf) }
        guard !candidates.isEmpty else { return .unknown(reason: "CRL: the issuer's certificate is not available") }
        var problems: [String] = []
        for url in points {
            do {
                let list = try CertificateRevocationList(bytes: try await fetcher.get(url: url, maximumBytes: Self.crlLimit))
                guard list.issuer == leaf.issuer, candidates.contains(where: list.isSigned(by:)) else {
                    problems.append("\(url): not signed by the certificate's issuer")
                    continue
                }
                if let next = list.nextUpdate, next < now {
                    problems.append("\(url): out of date (nextUpdate \(VerificationFormat.iso8601(next)))")
                    continue
                }
                if let date = list.revocationDate(of: leaf) {
                    return .revoked(reason: "CRL \(url), \(VerificationFormat.iso8601(date))")
                }
                return .good(sources: ["CRL \(url)"])
            } catch {
                problems.append("\(error)")
            }
        }
        return .unknown(reason: Self.shorten(problems.joined(separator: "; ")))
    }

    /// A CRL is read whole; a commune-level CA's list is kilobytes, a national one a few MB.
    static let crlLimit = 32 << 20

    /// The OCSP URLs of a certificate's Authority Information Access.
    package static func ocspResponders(_ certificate: Certificate) -> [String] {
        guard let access = try? certificate.extensions.authorityInformationAccess else { return [] }
        return access.compactMap { description in
            guard description.method == .ocspServer, case .uniformResourceIdentifier(let uri) = description.location else { return nil }
            return uri
        }
    }

    /// The URIs of a certificate's CRL distribution points (RFC 5280 §4.2.1.13), read with
    /// SwiftASN1: swift-certificates has no type for this extension.
    package static func crlDistributionPoints(_ certificate: Certificate) -> [String] {
        let oid: ASN1ObjectIdentifier = [2, 5, 29, 31]
        guard let ext = certificate.extensions.first(where: { $0.oid == oid }),
              let root = try? DER.parse(ext.value) else { return [] }
        var uris: [String] = []
        func walk(_ node: ASN1Node, depth: Int) {
            guard depth < 8 else { return }
            switch node.content {
            case .constructed(let children): for child in children { walk(child, depth: depth + 1) }
            case .primitive(let bytes):
                // GeneralName uniformResourceIdentifier [6] IA5String
                if node.identifier == ASN1Identifier(tagWithNumber: 6, tagClass: .contextSpecific) {
                    uris.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        walk(root, depth: 0)
        return uris
    }

    static func shorten(_ text: String) -> String { text.count > 300 ? String(text.prefix(300)) + "…" : text }
}

/// Passes OCSP requests to the fetcher and remembers which responders answered and why others
/// did not. Any transport failure is terminal, so the policy cannot pass over it quietly.
final class RecordingRequester: OCSPRequester, @unchecked Sendable {
    let fetcher: any TrustFetcher
    private let lock = NSLock()
    private var answered: [String] = []
    private var failures: [String] = []

    init(fetcher: any TrustFetcher) { self.fetcher = fetcher }

    var asked: [String] { lock.withLock { answered } }
    var errors: [String] { lock.withLock { failures } }

    func query(request: [UInt8], uri: String) async -> OCSPRequesterQueryResult {
        do {
            let answer = try await fetcher.post(url: uri, contentType: "application/ocsp-request", body: request)
            lock.withLock { answered.append(uri) }
            return .response(answer)
        } catch {
            lock.withLock { failures.append("\(error)") }
            return .terminalError(error)
        }
    }
}
