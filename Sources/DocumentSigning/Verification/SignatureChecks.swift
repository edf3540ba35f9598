import Crypto
import _CryptoExtras
import Foundation
import Signing
import SwiftASN1
@_spi(FixedExpiryValidationTime) import X509

/// The digests a signature we read may use. SHA-1 is read so that it can be reported as weak,
/// not silently refused.
package enum VerificationDigest: String, Sendable, CaseIterable {
    case sha1 = "SHA-1", sha256 = "SHA-256", sha384 = "SHA-384", sha512 = "SHA-512"

    static let sha1OID: ASN1ObjectIdentifier = [1, 3, 14, 3, 2, 26]

    init?(oid: ASN1ObjectIdentifier) {
        switch oid {
        case Self.sha1OID: self = .sha1
        case CMSOID.sha256: self = .sha256
        case CMSOID.sha384: self = .sha384
        case CMSOID.sha512: self = .sha512
        default: return nil
        }
    }

    var isWeak: Bool { self == .sha1 }

    /// A hasher for this digest (SHA-1 only to check, never to sign).
    package func hasher() -> StreamingHasher {
        switch self {
        case .sha1: .legacySHA1()
        case .sha256: StreamingHasher(.sha256)
        case .sha384: StreamingHasher(.sha384)
        case .sha512: StreamingHasher(.sha512)
        }
    }

    package func hash(_ bytes: some DataProtocol) -> [UInt8] {
        var hasher = hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

/// The checks on one CMS signature, given the digest of the bytes it should cover. Pure apart
/// from the certificate verifier being async.
package enum SignatureChecks {
    /// The signing scheme named by a SignerInfo's signatureAlgorithm and digestAlgorithm.
    enum Scheme: Equatable {
        case rsaPKCS1(VerificationDigest)
        case rsaPSS(VerificationDigest)
        case ecdsa(VerificationDigest)

        var description: String {
            switch self {
            case .rsaPKCS1(let digest): "RSA PKCS#1 v1.5 \(digest.rawValue)"
            case .rsaPSS(let digest): "RSASSA-PSS \(digest.rawValue)"
            case .ecdsa(let digest): "ECDSA \(digest.rawValue)"
            }
        }
    }

    static let ecdsaWithSHA1: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 1]
    static let sha1WithRSA: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 5]
    static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]

    /// `digest` hashes the signed attributes; `signatureAlgorithm` names the scheme (openssl and
    /// many signers write plain rsaEncryption / ecPublicKey and leave the hash to digestAlgorithm).
    static func scheme(_ algorithm: ParsedSignedData.AlgorithmIdentifier, digest: VerificationDigest) throws -> Scheme {
        switch algorithm.algorithm {
        case CMSOID.rsaEncryption: return .rsaPKCS1(digest)
        case sha1WithRSA: return .rsaPKCS1(.sha1)
        case CMSOID.sha256WithRSA: return .rsaPKCS1(.sha256)
        case CMSOID.sha384WithRSA: return .rsaPKCS1(.sha384)
        case CMSOID.sha512WithRSA: return .rsaPKCS1(.sha512)
        case ecPublicKey: return .ecdsa(digest)
        case ecdsaWithSHA1: return .ecdsa(.sha1)
        case CMSOID.ecdsaWithSHA256: return .ecdsa(.sha256)
        case CMSOID.ecdsaWithSHA384: return .ecdsa(.sha384)
        case CMSOID.ecdsaWithSHA512: return .ecdsa(.sha512)
        case CMSOID.rsassaPSS:
            // RSASSA-PSS-params: hashAlgorithm [0] (default SHA-1). The salt length is assumed
            // to equal the digest length, the only one swift-crypto's PSS verifies.
            var pssDigest = VerificationDigest.sha1
            if let parameters = algorithm.parameters {
                let node = try DER.parse(parameters)
                for field in try CMSSignedDataParser.children(node, "RSASSA-PSS-params")
                where field.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                    guard let inner = try CMSSignedDataParser.children(field, "hashAlgorithm").first,
                          let found = VerificationDigest(oid: try CMSSignedDataParser.algorithmIdentifier(inner).algorithm)
                    else { throw CMSParseError.malformed("unknown PSS hash") }
                    pssDigest = found
                }
            }
            return .rsaPSS(pssDigest)
        default:
            throw CMSParseError.malformed("unsupported signature algorithm \(algorithm.algorithm)")
        }
    }

    /// Whether `signature` over `message` verifies with the certificate's key under `scheme`.
    static func isValidSignature(_ signature: [UInt8], over message: [UInt8], scheme: Scheme, key: Certificate.PublicKey) -> Bool {
        func digested<R>(_ digest: VerificationDigest, _ body: (any Digest) -> R) -> R {
            switch digest {
            case .sha1: body(Insecure.SHA1.hash(data: message))
            case .sha256: body(SHA256.hash(data: message))
            case .sha384: body(SHA384.hash(data: message))
            case .sha512: body(SHA512.hash(data: message))
            }
        }
        switch scheme {
        case .rsaPKCS1(let digest), .rsaPSS(let digest):
            guard let rsa = _RSA.Signing.PublicKey(key) else { return false }
            let padding: _RSA.Signing.Padding = if case .rsaPSS = scheme { .PSS } else { .insecurePKCS1v1_5 }
            let value = _RSA.Signing.RSASignature(rawRepresentation: signature)
            return digested(digest) { rsa.isValidSignature(value, for: $0, padding: padding) }
        case .ecdsa(let digest):
            if let p256 = P256.Signing.PublicKey(key) {
                guard let value = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
                return digested(digest) { p256.isValidSignature(value, for: $0) }
            }
            if let p384 = P384.Signing.PublicKey(key) {
                guard let value = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
                return digested(digest) { p384.isValidSignature(value, for: $0) }
            }
            if let p521 = P521.Signing.PublicKey(key) {
                guard let value = try? P521.Signing.ECDSASignature(derRepresentation: signature) else { return false }
                return digested(digest) { p521.isValidSignature(value, for: $0) }
            }
            return false
        }
    }

    /// Everything about one CMS signature. `contentDigest` gives the digest of the signed bytes
    /// under the algorithm the signer chose (the caller streams the file); `claimedTime` is the
    /// PDF's /M when the CMS carries no signing-time. `trustRoots` nil: the chain is not checked.
    package static func verify(
        cms: [UInt8], name: String, contentDigest: (VerificationDigest) throws -> [UInt8],
        claimedTime: Date?, trustRoots: [Certificate]?, revocation: RevocationChecker? = nil, now: Date = Date()
    ) async -> SignatureVerification {
        var result = await check(cms: cms, name: name, contentDigest: contentDigest, claimedTime: claimedTime, trustRoots: trustRoots,
                                 revocation: revocation, now: now)
        result.decide()
        return result
    }

    /// The checks in order; a check that makes the later ones meaningless returns early.
    static func check(
        cms: [UInt8], name: String, contentDigest: (VerificationDigest) throws -> [UInt8],
        claimedTime: Date?, trustRoots: [Certificate]?, revocation: RevocationChecker?, now: Date
    ) async -> SignatureVerification {
        var result = SignatureVerification(name: name)
        let parsed: ParsedSignedData
        do {
            parsed = try CMSSignedDataParser.parse(cms)
        } catch {
            result.checks.append(.init("format", .failed, "\(error)"))
            return result
        }
        if parsed.signerCount != 1 {
            result.checks.append(.init("format", .warning,
                                       "CMS có \(parsed.signerCount) người ký, chỉ kiểm tra người đầu / \(parsed.signerCount) signers, only the first is checked"))
        }
        guard let signer = parsed.signerCertificate else {
            result.checks.append(.init("signing-certificate", .failed,
                                       "không tìm thấy chứng thư của người ký trong CMS / the signer's certificate is not in the CMS"))
            return result
        }
        result.signer = signer.subject.description
        result.signerCertificate = signer
        if let time = parsed.signingTime {
            (result.signingTime, result.signingTimeSource) = (time, "cms-signing-time")
        } else if let claimedTime {
            (result.signingTime, result.signingTimeSource) = (claimedTime, "pdf-M")
        }

        // Algorithms.
        guard let digest = VerificationDigest(oid: parsed.digestAlgorithm.algorithm) else {
            result.checks.append(.init("algorithm", .failed,
                                       "thuật toán băm không hỗ trợ \(parsed.digestAlgorithm.algorithm) / unsupported digest algorithm"))
            return result
        }
        let scheme: Scheme
        do { scheme = try self.scheme(parsed.signatureAlgorithm, digest: digest) } catch {
            result.checks.append(.init("algorithm", .failed, "\(error)"))
            return result
        }
        result.digestAlgorithm = digest.rawValue
        result.signatureAlgorithm = scheme.description
        let schemeDigest: VerificationDigest = switch scheme { case .rsaPKCS1(let d), .rsaPSS(let d), .ecdsa(let d): d }
        if digest.isWeak || schemeDigest.isWeak {
            result.checks.append(.init("algorithm", .failed,
                                       "thuật toán yếu (SHA-1): \(scheme.description) / weak algorithm (SHA-1): \(scheme.description)"))
        } else {
            result.checks.append(.init("algorithm", .passed, "thuật toán / algorithm: \(scheme.description)"))
        }

        // Integrity: the message-digest attribute against the bytes.
        guard let signedAttributes = parsed.signedAttributesForSignature, let messageDigest = parsed.messageDigest else {
            result.checks.append(.init("format", .failed,
                                       "CMS không có thuộc tính ký message-digest / the CMS has no signed message-digest attribute"))
            return result
        }
        do {
            let actual = try contentDigest(digest)
            if actual == messageDigest {
                result.checks.append(.init("integrity", .passed,
                                           "nội dung không bị thay đổi (\(digest.rawValue)) / content unchanged (\(digest.rawValue))"))
            } else {
                result.checks.append(.init("integrity", .failed,
                                           "nội dung đã bị thay đổi sau khi ký / the content was changed after signing (digest mismatch)"))
            }
        } catch {
            result.checks.append(.init("integrity", .notChecked, "không đọc được nội dung / cannot read the content: \(error)"))
        }
        if parsed.contentType != CMSOID.data {
            result.checks.append(.init("format", .warning, "content-type không phải id-data / content-type is not id-data"))
        }

        // The signature over the signed attributes.
        if isValidSignature(parsed.signature, over: signedAttributes, scheme: scheme, key: signer.publicKey) {
            result.checks.append(.init("signature", .passed,
                                       "chữ ký số đúng với khóa của chứng thư / the signature verifies with the certificate's key"))
        } else {
            result.checks.append(.init("signature", .failed,
                                       "chữ ký số không đúng / the signature does not verify with the certificate's key"))
        }

        // ESS signing-certificate(-v2): the certificate cannot have been swapped.
        if let references = parsed.signingCertificateReferences {
            let certificateDER = (try? DER.encode(signer)) ?? []
            let matches = references.first.map { reference -> Bool in
                guard let hash = VerificationDigest(oid: reference.hashAlgorithm) else { return false }
                return hash.hash(certificateDER) == reference.hash
            } ?? false
            result.checks.append(matches
                ? .init("signing-certificate", .passed, "signing-certificate khớp chứng thư người ký / ESS signing-certificate matches the signer's certificate")
                : .init("signing-certificate", .failed, "signing-certificate không khớp / ESS signing-certificate does not match the signer's certificate"))
        } else {
            result.checks.append(.init("signing-certificate", .warning,
                                       "không có thuộc tính signing-certificate (ESS) / no ESS signing-certificate attribute"))
        }

        // A signature timestamp proves the signature existed at its time; the claimed time does not.
        if let token = parsed.timestampTokens.first {
            let check = await timestampCheck(token, signatureValue: parsed.signature, trustRoots: trustRoots)
            result.checks.append(check.check)
            result.timestampTime = check.time
        }

        // Validity period at the timestamp's time, else at the signing time as claimed.
        let validationTime = result.timestampTime ?? result.signingTime ?? now
        let (whenVietnamese, whenEnglish) = result.timestampTime != nil ? ("thời điểm của dấu thời gian", "the timestamp's time")
            : result.signingTime == nil ? ("hiện tại", "now") : ("thời điểm ký", "the signing time")
        if signer.notValidBefore <= validationTime && validationTime <= signer.notValidAfter {
            result.checks.append(.init("validity-period", .passed,
                                       "chứng thư còn hiệu lực tại \(whenVietnamese) / the certificate was valid at \(whenEnglish)"))
        } else {
            result.checks.append(.init("validity-period", .failed,
                                       "chứng thư hết hạn hoặc chưa có hiệu lực tại \(whenVietnamese) / the certificate was not valid at \(whenEnglish)"))
        }

        // Chain to the trust anchors.
        var chainValid = false
        if let trustRoots {
            var verifier = Verifier(rootCertificates: CertificateStore(trustRoots)) {
                RFC5280Policy(fixedExpiryValidationTime: validationTime)
                SigningCertificateUsagePolicy()
            }
            let outcome = await verifier.validate(leaf: signer, intermediates: CertificateStore(parsed.certificates))
            switch outcome {
            case .validCertificate(let chain):
                chainValid = true
                let root = chain.last.map { $0.subject.description } ?? "?"
                result.checks.append(.init("chain", .passed, "chuỗi chứng thư tới gốc tin cậy / chain to a trust anchor: \(root)"))
            case .couldNotValidate(let failures):
                let reasons = failures.map { "\($0.policyFailureReason)" }.joined(separator: "; ")
                result.checks.append(.init("chain", .failed,
                                           "không dựng được chuỗi tới gốc tin cậy / no chain to a trust anchor\(reasons.isEmpty ? "" : ": " + reasons)"))
            }
        } else {
            result.checks.append(.init("chain", .notChecked,
                                       "không đối chiếu với gốc tin cậy (không có --trust) / not checked against a trust anchor (no --trust)"))
        }
        result.checks.append(await revocationCheck(
            signer: signer, certificates: parsed.certificates, trustRoots: trustRoots, chainValid: chainValid,
            chainTime: validationTime, checker: revocation, now: now, result: &result))
        return result
    }

    /// OCSP for the signer's chain: against the anchors when the chain was checked, else against
    /// the issuer found in the CMS (which tells revocation, not trust).
    static func revocationCheck(signer: Certificate, certificates: [Certificate], trustRoots: [Certificate]?, chainValid: Bool,
                                chainTime: Date, checker: RevocationChecker?, now: Date,
                                result: inout SignatureVerification) async -> VerificationCheck {
        guard let checker else {
            result.revocation = "not-checked"
            return .init("revocation", .notChecked, "không kiểm tra thu hồi / revocation not checked")
        }
        if trustRoots != nil && !chainValid {
            result.revocation = "not-checked"
            return .init("revocation", .notChecked, "không kiểm tra thu hồi vì chuỗi chứng thư không hợp lệ / revocation not checked: the chain failed")
        }
        let others = certificates.filter { $0 != signer }
        let namesASource = !RevocationChecker.ocspResponders(signer).isEmpty || !RevocationChecker.crlDistributionPoints(signer).isEmpty
        if trustRoots == nil && others.isEmpty && namesASource {
            result.revocation = "not-checked"
            return .init("revocation", .notChecked, "không kiểm tra thu hồi: cần chứng thư của bên cấp (--trust) / "
                         + "revocation not checked: the issuer's certificate is needed (--trust)")
        }
        let status = await checker.status(of: signer, roots: trustRoots ?? others, intermediates: others, chainTime: chainTime, now: now)
        result.revocation = status.word
        return status.check
    }

    /// The signature timestamp: the token's own signature, its imprint over this signature
    /// value, and — with anchors — the TSA's chain at the timestamp's time.
    static func timestampCheck(_ token: [UInt8], signatureValue: [UInt8], trustRoots: [Certificate]?) async -> (check: VerificationCheck, time: Date?) {
        let info: TimeStampInfo
        do { info = try TimeStampProtocol.verifyToken(token) } catch {
            return (.init("timestamp", .failed, "dấu thời gian không hợp lệ / the signature timestamp is invalid: \(error)"), nil)
        }
        guard let digest = VerificationDigest(oid: info.imprintAlgorithm), digest.hash(signatureValue) == info.imprint else {
            return (.init("timestamp", .failed, "dấu thời gian không thuộc chữ ký này / the timestamp is not over this signature (messageImprint)"), nil)
        }
        let time = VerificationFormat.iso8601(info.generationTime)
        let tsa = info.tsaCertificate.subject.description
        guard let trustRoots else {
            return (.init("timestamp", .passed, "dấu thời gian / signature timestamp: \(time), TSA \(tsa) (không đối chiếu gốc tin cậy / TSA not checked against a trust anchor)"),
                    info.generationTime)
        }
        var verifier = Verifier(rootCertificates: CertificateStore(trustRoots)) {
            RFC5280Policy(fixedExpiryValidationTime: info.generationTime)
            TimeStampingUsagePolicy()
        }
        switch await verifier.validate(leaf: info.tsaCertificate, intermediates: CertificateStore(info.certificates)) {
        case .validCertificate:
            return (.init("timestamp", .passed, "dấu thời gian / signature timestamp: \(time), TSA \(tsa) (tin cậy / trusted)"), info.generationTime)
        case .couldNotValidate:
            return (.init("timestamp", .failed, "dấu thời gian \(time) của TSA không tin cậy / the timestamp \(time) is from an untrusted TSA: \(tsa)"), nil)
        }
    }
}

/// A timestamp authority's certificate must be for timestamps: extended key usage id-kp-timeStamping,
/// which RFC 3161 §2.3 requires to be its only, critical, purpose.
struct TimeStampingUsagePolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [
        ASN1ObjectIdentifier.X509ExtensionID.keyUsage, ASN1ObjectIdentifier.X509ExtensionID.extendedKeyUsage,
    ]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        guard let usage = try? chain.leaf.extensions.extendedKeyUsage, usage.contains(.timeStamping) else {
            return .failsToMeetPolicy(reason: "the TSA certificate lacks extended key usage timeStamping")
        }
        return .meetsPolicy
    }
}

/// The signer's certificate must be for signatures: key usage digitalSignature or
/// nonRepudiation when present. Declaring key usage and extended key usage handled lets a leaf
/// with those marked critical (as Vietnamese CA certificates are) reach chain building.
struct SigningCertificateUsagePolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [
        ASN1ObjectIdentifier.X509ExtensionID.keyUsage, ASN1ObjectIdentifier.X509ExtensionID.extendedKeyUsage,
    ]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        guard let usage = try? chain.leaf.extensions.keyUsage else { return .meetsPolicy }
        if usage.digitalSignature || usage.nonRepudiation { return .meetsPolicy }
        return .failsToMeetPolicy(reason: "key usage has neither digitalSignature nor nonRepudiation")
    }
}
