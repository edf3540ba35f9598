import Foundation

/// A test PKI made by openssl — an issuer independent of our code: a root CA in a directory, and
/// signing certificates it issues (the key usages a signing certificate has), as PEM files.
public struct TestPKI {
    public enum KeyKind: Sendable {
        case rsa2048, p256, p384

        var newkey: [String] {
            switch self {
            case .rsa2048: ["-newkey", "rsa:2048"]
            case .p256: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
            case .p384: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"]
            }
        }
    }

    /// A signer's private key and certificate (the chain file: the certificate alone, since the
    /// root signs it directly), and the root that issued it.
    public struct Signer: Sendable {
        public let key: String
        public let chain: String
        public let root: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public let directory: String
    public let name: String
    public var root: String { "\(directory)/\(name).pem" }

    /// Makes the root CA `NAME.pem` (and its key) in `directory`.
    public init(directory: String, name: String = "root", key: KeyKind = .p256,
                subject: String = "/CN=Test Root CA/O=Ban Cơ yếu (thử nghiệm)") throws {
        self.directory = directory
        self.name = name
        try Self.openssl(["req", "-x509"] + key.newkey + ["-nodes", "-keyout", "\(directory)/\(name).key", "-out", root, "-days", "30",
                          "-subj", subject, "-utf8", "-addext", "basicConstraints=critical,CA:TRUE",
                          "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    /// Issues `NAME.key` / `NAME.pem` under the root. `extensions`: the certificate's, in openssl's
    /// extension-file syntax; `days`: its validity from now (-1: already expired).
    public func issue(_ name: String, subject: String = "/CN=Nguyễn Văn An/O=UBND xã Hòa Tiến", key: KeyKind,
                      extensions: String = "keyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n",
                      days: Int = 10) throws -> Signer {
        let d = directory
        try Self.openssl(["req", "-new"] + key.newkey + ["-nodes", "-keyout", "\(d)/\(name).key", "-out", "\(d)/\(name).csr", "-subj", subject, "-utf8"])
        try extensions.write(toFile: "\(d)/\(name).ext", atomically: true, encoding: .utf8)
        try Self.openssl(["x509", "-req", "-in", "\(d)/\(name).csr", "-CA", root, "-CAkey", "\(d)/\(self.name).key", "-CAcreateserial",
                          "-days", "\(days)", "-extfile", "\(d)/\(name).ext", "-out", "\(d)/\(name).pem"])
        return Signer(key: "\(d)/\(name).key", chain: "\(d)/\(name).pem", root: root)
    }

    static func openssl(_ arguments: [String]) throws {
        let result = runProgram("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw Failure(description: "openssl \(arguments.prefix(2).joined(separator: " ")): \(result.err)") }
    }
}
