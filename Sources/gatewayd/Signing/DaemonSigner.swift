// `--signer token:…|pkcs11:…` while gatewayd runs (issue 18): the daemon is the only process that
// opens a token, so `gatewayd sign` and `edxml pack` hand each digest to it (POST
// /v1/tokens/sign, through TokenCommandLine's client, the one `gateway-token sign` uses) instead of
// opening the token beside it.
import Signing
import Synchronization
import TokenCommandLine
import TokenDriver
import X509

/// A signer whose key stays in the daemon: the certificate is read from it when the signer is
/// made (no PIN), the PIN when the first signature is asked (as the other signers read theirs),
/// and each signature is one request — one token session, one login — in the daemon.
final class DaemonSigner: Signer, Sendable {
    let certificateChain: [Certificate]
    let keyType: SignerKeyType
    private let reader: String?
    private let key: String
    private let pinFile: String?
    private let client: DaemonTokenClient
    /// The PIN once read, kept for a next signature (each is a request of its own).
    private let pin = Mutex<EnteredPIN?>(nil)

    init(client: DaemonTokenClient, reader: String?, key: String, intermediates: [Certificate], pinFile: String?) throws {
        let found = try client.certificate(reader: reader, key: key)
        let leaf = try Certificate(derEncoded: found.certificate)
        guard let algorithm = TokenInventory.algorithm(of: leaf) else {
            throw CLI.fail("Khóa của chứng thư không được hỗ trợ / the certificate's key is not supported: \(leaf.subject)")
        }
        certificateChain = [leaf] + intermediates
        keyType = algorithm.keyType
        (self.client, self.reader, self.key, self.pinFile) = (client, reader, key, pinFile)
    }

    /// Blocking on the socket while the daemon signs: this runs in a one-shot command, where
    /// nothing else waits for the thread.
    func sign(digest: [UInt8], algorithm: SignatureAlgorithm) async throws -> [UInt8] {
        let entered = try pin.withLock { kept in
            let entered = try kept ?? PINEntry.read(file: pinFile)
            kept = entered
            return entered
        }
        return try client.sign(reader: reader, key: key, algorithm: algorithm, digests: [digest], confirmLastTry: false, pin: entered)[0]
    }
}
