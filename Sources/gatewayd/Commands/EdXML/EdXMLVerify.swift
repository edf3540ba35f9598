// `gatewayd edxml verify`: a package's XML signatures.
import ArgumentParser
import DocumentModel
import EdXML
import Foundation
import GatewayCore
import Signing
import X509

extension EdXMLCommand {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Kiểm tra chữ ký số của gói tin / check a package's XML signatures.",
            discussion: "Exit status 0 when the package is signed and every signature is valid (or weak: SHA-1, with a warning) and, with --trust, chains to one of the roots; 1 otherwise.")
        @Argument(help: "The package file.") var package: String
        @Option(help: "Trusted root certificates (PEM, one or more).") var trust: String?

        func run() async throws {
            var roots: [Certificate]?
            if let trust {
                do {
                    let pem = try String(contentsOfFile: trust, encoding: .utf8)
                    roots = try SignatureVerifier.certificates(fromPEM: pem)
                } catch {
                    throw CLI.fail("Không đọc được chứng thư gốc / cannot read the trusted roots \(trust): \(error)")
                }
            }
            let result = try await EdXMLCommand.run { try await PackageReader.read(path: package, checkSignatures: true, trustRoots: roots) }
            let signatures = result.signatures ?? []
            Self.printSignatures(signatures)
            if signatures.isEmpty { throw CLI.fail("Gói tin chưa ký / the package is not signed") }
            let bad = signatures.contains { $0.outcome == .invalid || (roots != nil && $0.trust != .trusted) }
            if bad { throw ExitCode.failure }
        }

        static func printSignatures(_ signatures: [SignatureCheck]) {
            if signatures.isEmpty { print("Chữ ký / signature: không có / none") }
            for check in signatures {
                let outcome = switch check.outcome {
                case .valid: "HỢP LỆ / VALID"
                case .weak: "HỢP LỆ NHƯNG YẾU (SHA-1) / VALID BUT WEAK (SHA-1)"
                case .invalid: "KHÔNG HỢP LỆ / INVALID"
                }
                print("Chữ ký / signature: \(outcome)")
                if let signer = check.signer { print("  Người ký / signer: \(signer)") }
                if let method = check.signatureMethod { print("  Thuật toán / method: \(method)") }
                switch check.trust {
                case .trusted: print("  Chuỗi chứng thư: tin cậy / chain: trusted")
                case .untrusted: print("  Chuỗi chứng thư: KHÔNG tin cậy / chain: NOT trusted\(check.trustDetail.map { " (\($0))" } ?? "")")
                case .notChecked: break
                }
                for reason in check.reasons { print("  \(reason)") }
            }
        }
    }
}
