import Foundation
import NIOCore
import NIOSSL
import Signing
import Synchronization
import X509

/// One certificate of the box and its key, read from their files and checked to match, in the
/// forms the relay uses them: the TLS client identity and the envelopes' signer.
package struct BoxIdentityMaterial: Sendable {
    package let chain: [Certificate]
    package var certificate: Certificate { chain[0] }
    package var publicKey: Certificate.PublicKey { certificate.publicKey }
    let signer: SoftwareKeySigner
    let tlsChain: [NIOSSLCertificate]
    let tlsKey: NIOSSLPrivateKey

    /// Throws when a file cannot be read or the key is not the certificate's.
    package init(files: BoxIdentityFiles) throws {
        signer = try SoftwareKeySigner(keyFile: files.key, chainFile: files.certificate)
        chain = signer.certificateChain
        tlsChain = try NIOSSLCertificate.fromPEMFile(files.certificate)
        tlsKey = try NIOSSLPrivateKey(file: files.key, format: .pem)
    }
}

/// The box's identity as the relay holds it while the daemon runs: one object the TLS client and
/// the envelope packaging both ask, so that a renewal switches them together. The switch takes
/// effect at the next TLS handshake (each new connection asks, through NIOSSL's context
/// callback, for the identity of the moment): a connection already open — an upload in progress —
/// goes on with the certificate it was opened with.
package final class BoxIdentity: Signer {
    private let current: Mutex<BoxIdentityMaterial>

    package init(_ material: BoxIdentityMaterial) { current = Mutex(material) }

    package convenience init(files: BoxIdentityFiles) throws { self.init(try BoxIdentityMaterial(files: files)) }

    package var material: BoxIdentityMaterial { current.withLock { $0 } }

    /// From now on, new connections and new envelopes use `material`.
    package func switchTo(_ material: BoxIdentityMaterial) { current.withLock { $0 = material } }

    // MARK: TLS

    /// `tls` presenting this identity: the current one at start, and at every later handshake the
    /// one current then.
    package func apply(to tls: inout TLSConfiguration) {
        let now = material
        tls.certificateChain = now.tlsChain.map { .certificate($0) }
        tls.privateKey = .privateKey(now.tlsKey)
        tls.sslContextCallback = { [self] _, promise in
            let now = material
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = now.tlsChain.map { .certificate($0) }
            override.privateKey = .privateKey(now.tlsKey)
            promise.succeed(override)
        }
    }

    // MARK: Signer (the relay's envelopes)

    package var certificateChain: [Certificate] { material.chain }
    package var keyType: SignerKeyType { material.signer.keyType }

    package func sign(digest: [UInt8], algorithm: Signing.SignatureAlgorithm) async throws -> [UInt8] {
        try material.signer.signNow(digest: digest, algorithm: algorithm)
    }
}
