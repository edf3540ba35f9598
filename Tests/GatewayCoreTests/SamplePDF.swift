import DocumentSigning
import Foundation
import Signing
import TestSupport

/// A sample PDF as a commune's document software would hand it over already signed: PAdES
/// signatures in order (the leader's, then the organization's seal over it), by test certificates.
enum SignedSamplePDF {
    /// Writes `path` (and intermediate `path.N.pdf` files): `SamplePDF.bytes(text, padding:)` signed by each of `signers`.
    static func write(_ path: String, text: String = "Van ban thu nghiem", padding: [UInt8] = [], signedBy signers: [TestPKI.Signer]) async throws {
        var current = path + ".0.pdf"
        try Data(SamplePDF.bytes(text, padding: padding)).write(to: URL(fileURLWithPath: current))
        for (index, pkiSigner) in signers.enumerated() {
            let signer = try SoftwareKeySigner(keyFile: pkiSigner.key, chainFile: pkiSigner.chain)
            let next = path + ".\(index + 1).pdf"
            _ = try await PAdESSigner.sign(input: current, output: next, signer: signer, algorithm: signer.keyType.algorithms[0])
            try? FileManager.default.removeItem(atPath: current)
            current = next
        }
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: current, toPath: path)
    }
}
