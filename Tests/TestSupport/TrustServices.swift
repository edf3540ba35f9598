import Foundation

/// A program left running for the length of a test — openssl's OCSP responder, the local TSA —
/// started with posix_spawn (see `spawnAndWait` for why not Foundation's Process), its output in
/// a file, stopped with SIGTERM and reaped.
public final class BackgroundProgram: @unchecked Sendable {
    public let pid: pid_t
    public let outputPath: String

    public init(_ executable: String, _ arguments: [String], outputPath: String) throws {
        self.outputPath = outputPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // The test process blocks signals its child would inherit (see common gotchas): start the
        // child with an empty mask and default handlers, or SIGTERM never reaches it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard status == 0 else { throw TestPKI.Failure(description: "cannot start \(executable): \(String(cString: strerror(status)))") }
        pid = child
    }

    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Whether the program's output shows `text` within `seconds`.
    public func waitForOutput(_ text: String, seconds: Double = 10) -> Bool {
        waitUntil(changesIn: (outputPath as NSString).deletingLastPathComponent, timeout: .seconds(seconds)) { output.contains(text) }
    }

    private var stopped = false

    /// SIGKILL: nothing here has state worth a graceful end, and it cannot be blocked or caught.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        TestLogs.keep(outputPath, as: ((outputPath as NSString).lastPathComponent as NSString).deletingPathExtension)
    }

    deinit { stop() }
}

extension TestPKI {
    /// The extension lines of a signing certificate whose AIA names an OCSP responder.
    public static func signingExtensions(ocsp: String? = nil, crl: String? = nil) -> String {
        var lines = "keyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n"
        if let ocsp { lines += "authorityInfoAccess=OCSP;URI:\(ocsp)\n" }
        if let crl { lines += "crlDistributionPoints=URI:\(crl)\n" }
        return lines
    }

    /// A line of openssl's CA database (`index.txt`) for an issued certificate: V (valid) or R
    /// (revoked now), its expiry and serial — what `openssl ocsp -index` answers from.
    public func indexLine(for certificate: String, revoked: Bool) throws -> String {
        let result = runProgram("/usr/bin/openssl", ["x509", "-in", certificate, "-noout", "-serial", "-enddate", "-subject", "-nameopt", "compat"])
        guard result.status == 0 else { throw Failure(description: "openssl x509: \(result.err)") }
        var fields: [String: String] = [:]
        for line in result.out.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0]).trimmingCharacters(in: .whitespaces)] = String(parts[1]).trimmingCharacters(in: .whitespaces) }
        }
        guard let serial = fields["serial"], let end = fields["notAfter"] else { throw Failure(description: "no serial in \(result.out)") }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
        let compact = DateFormatter()
        compact.locale = Locale(identifier: "en_US_POSIX")
        compact.timeZone = TimeZone(identifier: "UTC")
        compact.dateFormat = "yyMMddHHmmss'Z'"
        let squeezed = end.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        guard let expiry = formatter.date(from: squeezed) else { throw Failure(description: "cannot read notAfter \(end)") }
        let revocation = revoked ? compact.string(from: Date().addingTimeInterval(-3600)) + ",keyCompromise" : ""
        return [revoked ? "R" : "V", compact.string(from: expiry), revocation, serial, "unknown", "/CN=serial \(serial)"].joined(separator: "\t")
    }

    /// Starts `openssl ocsp` as this root's responder (the root signs the answers) on `port`.
    public func startOCSPResponder(indexLines: [String], port: Int) throws -> BackgroundProgram {
        let index = "\(directory)/\(name)-index.txt"
        try (indexLines.joined(separator: "\n") + "\n").write(toFile: index, atomically: true, encoding: .utf8)
        let responder = try BackgroundProgram("/usr/bin/openssl", [
            "ocsp", "-index", index, "-port", String(port), "-rsigner", root, "-rkey", "\(directory)/\(name).key", "-CA", root,
            "-nmin", "10", "-ignore_err",
        ], outputPath: "\(directory)/\(name)-ocsp.log")
        // Not probed by connecting: openssl's one-connection-at-a-time responder stalls on a
        // connection that closes without a request. It says when it listens.
        guard responder.waitForOutput("waiting for OCSP client connections") else {
            responder.stop()
            throw Failure(description: "openssl ocsp did not listen on \(port): \(responder.output)")
        }
        return responder
    }

    /// Makes this root's CRL (DER) with `openssl ca -gencrl` from CA-database lines (see
    /// `indexLine`): the revoked ones are listed. Returns its path.
    public func makeCRL(indexLines: [String], named file: String) throws -> String {
        let d = directory
        try (indexLines.joined(separator: "\n") + "\n").write(toFile: "\(d)/\(name)-crl-index.txt", atomically: true, encoding: .utf8)
        try "unique_subject = no\n".write(toFile: "\(d)/\(name)-crl-index.txt.attr", atomically: true, encoding: .utf8)
        try "01\n".write(toFile: "\(d)/\(name)-crlnumber", atomically: true, encoding: .utf8)
        try """
            [ ca ]
            default_ca = CA_default
            [ CA_default ]
            database = \(d)/\(name)-crl-index.txt
            crlnumber = \(d)/\(name)-crlnumber
            default_md = sha256
            default_crl_days = 1

            """.write(toFile: "\(d)/\(name)-crl.cnf", atomically: true, encoding: .utf8)
        try Self.openssl(["ca", "-gencrl", "-config", "\(d)/\(name)-crl.cnf", "-keyfile", "\(d)/\(name).key", "-cert", root,
                          "-out", "\(d)/\(name)-crl.pem"])
        try Self.openssl(["crl", "-in", "\(d)/\(name)-crl.pem", "-outform", "DER", "-out", "\(d)/\(file)"])
        return "\(d)/\(file)"
    }

    /// Issues a timestamping certificate (critical EKU timeStamping, RFC 3161 §2.3) and writes an
    /// `openssl ts -reply` configuration for it; returns the configuration's path.
    public func makeTSA(_ tsaName: String = "tsa") throws -> (config: String, signer: Signer) {
        let signer = try issue(tsaName, subject: "/CN=Test TSA/O=Ban Cơ yếu (thử nghiệm)", key: .rsa2048,
                               extensions: "keyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n")
        let config = "\(directory)/\(tsaName).cnf"
        try """
            [ tsa ]
            default_tsa = tsa_config
            [ tsa_config ]
            dir = \(directory)
            serial = \(directory)/\(tsaName)-serial
            crypto_device = builtin
            signer_cert = \(signer.chain)
            signer_key = \(signer.key)
            signer_digest = sha256
            default_policy = 1.2.3.4.1
            digests = sha256, sha384, sha512
            accuracy = secs:1
            ordering = no
            tsa_name = no
            ess_cert_id_chain = no
            ess_cert_id_alg = sha256

            """.write(toFile: config, atomically: true, encoding: .utf8)
        try "01\n".write(toFile: "\(directory)/\(tsaName)-serial", atomically: true, encoding: .utf8)
        return (config, signer)
    }
}
