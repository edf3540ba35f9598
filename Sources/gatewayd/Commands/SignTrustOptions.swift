// `gatewayd sign`'s trust options: the checks of the signer's certificate before signing
// (validity, key usage, chain to the installed anchors, OCSP revocation) and the RFC 3161
// timestamp (--tsa). The logic is DocumentSigning's (Trust/, Timestamp/); this is the wiring.
import ArgumentParser
import DocumentSigning
import Foundation
import Signing
import TrustHTTP
import X509

struct SignTrustOptions: ParsableArguments {
    @Option(help: "RFC 3161 timestamp authority URL (PAdES B-T / CAdES-T); none = no timestamp.") var tsa: String?
    @Option(help: "Trust anchors (PEM) the signer's certificate must chain to; none = chain not checked (warning).") var trust: String?
    @Flag(name: .customLong("require-revocation"),
          help: "Refuse to sign when the certificate's revocation cannot be checked (default: sign with a warning).")
    var requireRevocation = false
    @Flag(name: .customLong("no-revocation-check"), help: "Do not ask OCSP responders before signing (reported).")
    var noRevocationCheck = false

    /// Refuses (exit 1, reason on stderr) when the certificate fails a check; prints warnings
    /// (chain not checked, revocation unknown) and goes on otherwise.
    func checkBeforeSigning(_ signer: any Signer) async throws {
        let roots: [Certificate]?
        do { roots = try trust.map { try DocumentVerifier.trustAnchors(pemFile: $0) } } catch {
            throw CLI.fail("\(error)")
        }
        let chain = signer.certificateChain
        let outcome = await SigningCertificateCheck.run(
            certificate: signer.certificate, intermediates: Array(chain.dropFirst()), trustRoots: roots,
            revocation: noRevocationCheck ? nil : RevocationChecker(fetcher: AsyncHTTPTrustFetcher()),
            requireRevocation: requireRevocation)
        if let refusal = outcome.refusal {
            throw CLI.fail("Không ký: chứng thư không đạt kiểm tra / not signed: the certificate failed a check — \(refusal)")
        }
        for warning in outcome.warnings {
            FileHandle.standardError.write(Data("Cảnh báo / warning: \(warning)\n".utf8))
        }
    }

    /// The timestamp step for the CMS builder, or nil without --tsa.
    var timestamp: (@Sendable ([UInt8]) async throws -> [UInt8])? {
        guard let tsa else { return nil }
        let client = TimeStampClient(url: tsa, fetcher: AsyncHTTPTrustFetcher())
        return { signatureValue in try await client.token(forSignature: signatureValue) }
    }
}
