// `gatewayd verify`: check every signature of an incoming PDF, or a detached .p7s beside its
// content, and say per signature and overall whether it is valid — in Vietnamese and English,
// or as JSON to store with the document. The checks live in DocumentSigning/Verification.
import ArgumentParser
import DocumentSigning
import Foundation
import GatewayCore
import X509
import TrustHTTP

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Kiểm tra chữ ký số / verify the signatures of a PDF or a .p7s.",
        discussion: """
            A PDF: every signature (integrity over its /ByteRange, the CMS, the signer's \
            certificate, coverage: the whole file or an earlier revision, a signature timestamp, \
            revocation by OCSP). Another file: FILE is the .p7s and the content is FILE without \
            .p7s, or --content. Without --trust the chain is not checked against a trust anchor. \
            Revocation: good or revoked when the certificate's OCSP responder answers, unknown \
            when it cannot be reached (--no-revocation-check: not asked).
            Exit status: 0 when every signature is valid (and trusted, with --trust); 1 otherwise.
            """)

    @Argument(help: "The signed PDF, or the detached signature (.p7s).") var file: String
    @Option(help: "Trust anchors (PEM, one or more root certificates).") var trust: String?
    @Option(help: "For a .p7s: the signed content (default: FILE without .p7s).") var content: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(name: .customLong("no-revocation-check"), help: "Do not ask OCSP responders (offline).") var noRevocationCheck = false

    func run() async throws {
        let result: DocumentVerification
        let roots: [Certificate]?
        do {
            roots = try trust.map { try DocumentVerifier.trustAnchors(pemFile: $0) }
            result = try await DocumentVerifier.verify(
                path: file, content: content, trustRoots: roots,
                revocation: noRevocationCheck ? nil : RevocationChecker(fetcher: AsyncHTTPTrustFetcher()))
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode.failure
        }
        if json {
            print(try result.json())
        } else {
            // Then the verdict in the words the inbox and the doors use (one core: IncomingVerifier).
            let verdict = IncomingVerifier(anchors: roots ?? [], revocation: nil)
                .verdict(of: result, file: (file as NSString).lastPathComponent, now: Date())
            print(result.text + "\n\n" + verdict.lines.joined(separator: "\n"))
        }
        if !result.allValid { throw ExitCode.failure }
    }
}
