import Crypto
import _CryptoExtras
import Foundation

/// The private keys a backup may carry (`--include-keys`), always encrypted with a passphrase.
///
/// scrypt (N = 2^15, r = 8, p = 1: 32 MiB and a fraction of a second on the box, per RFC 7914's
/// interactive figures raised once) turns the passphrase and a random 16-byte salt into an
/// AES-256 key; AES-GCM seals the keys with a random nonce and authenticates them, so a wrong
/// passphrase and a changed byte are both refused. scrypt rather than PBKDF2 because it costs
/// memory as well as time, which is what makes guessing a typed passphrase on GPUs expensive.
package enum BackupKeys {
    /// The key files of a box: the box's own key (the hub's TLS and edXML envelopes) and the
    /// console's CA and server keys. Only those that exist are taken.
    package static func files(configuration: GatewayConfiguration) -> [String] {
        var paths: [String] = []
        if let key = configuration.resolvedUpstream.keyFile { paths.append(key) }
        let console = configuration.layout.dataDirectory + "/console"
        paths += [console + "/ca.key", console + "/server.key"]
        return paths.filter { FileManager.default.fileExists(atPath: $0) }
    }

    static let minimumPassphraseLength = 10

    struct KeyFile: Codable, Equatable {
        var path: String
        var mode: Int
        var content: Data
    }

    struct Sealed: Codable {
        var kdf = "scrypt"
        var n: Int
        var r: Int
        var p: Int
        var salt: Data
        var cipher = "AES-256-GCM"
        /// nonce ‖ ciphertext ‖ tag.
        var sealed: Data
    }

    static let rounds = 1 << 15, blockSize = 8, parallelism = 1

    static func checkPassphrase(_ passphrase: String) throws(BackupFailure) {
        guard passphrase.count >= minimumPassphraseLength else {
            throw .passphrase(vi: "Mật khẩu bảo vệ khóa phải có ít nhất \(minimumPassphraseLength) ký tự",
                              en: "the passphrase protecting the keys must have at least \(minimumPassphraseLength) characters")
        }
    }

    static func seal(_ files: [KeyFile], passphrase: String) throws -> [UInt8] {
        try checkPassphrase(passphrase)
        let salt = Data((0..<16).map { _ in UInt8.random(in: .min ... .max) })
        let key = try derive(passphrase, salt: salt, n: rounds, r: blockSize, p: parallelism)
        let plaintext = try JSONEncoder().encode(files)
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Array(BackupFormat.identifier.utf8))
        guard let combined = box.combined else { throw BackupFailure.io("AES-GCM gave no combined form") }
        let sealed = Sealed(n: rounds, r: blockSize, p: parallelism, salt: salt, sealed: combined)
        return Array(try BackupFormat.encoder().encode(sealed))
    }

    /// The key files in `bytes` (a `keys.enc` entry), or a refusal naming a wrong passphrase.
    static func open(_ bytes: [UInt8], passphrase: String) throws(BackupFailure) -> [KeyFile] {
        let sealed: Sealed
        do { sealed = try BackupFormat.decoder().decode(Sealed.self, from: Data(bytes)) } catch {
            throw .damaged("keys.enc is not readable: \(error)")
        }
        // Bounds keep a forged file from asking for gigabytes of scrypt memory.
        guard sealed.kdf == "scrypt", sealed.cipher == "AES-256-GCM", sealed.n >= 2, sealed.n <= 1 << 20,
              sealed.r >= 1, sealed.r <= 32, sealed.p >= 1, sealed.p <= 16 else {
            throw .damaged("keys.enc names parameters this version does not accept")
        }
        do {
            let key = try derive(passphrase, salt: sealed.salt, n: sealed.n, r: sealed.r, p: sealed.p)
            let box = try AES.GCM.SealedBox(combined: sealed.sealed)
            let plaintext = try AES.GCM.open(box, using: key, authenticating: Array(BackupFormat.identifier.utf8))
            return try JSONDecoder().decode([KeyFile].self, from: plaintext)
        } catch {
            throw .passphrase(vi: "Sai mật khẩu, không mở được các khóa trong bản sao lưu",
                              en: "wrong passphrase: the keys in the backup cannot be opened")
        }
    }

    private static func derive(_ passphrase: String, salt: Data, n: Int, r: Int, p: Int) throws -> SymmetricKey {
        try KDF.Scrypt.deriveKey(from: Array(passphrase.utf8), salt: salt, outputByteCount: 32, rounds: n, blockSize: r, parallelism: p)
    }
}
