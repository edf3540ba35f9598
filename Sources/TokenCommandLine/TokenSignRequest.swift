// `token sign` as plain values (`SignRequest`), and `gateway-token sign …` read without
// ArgumentParser's parse. `sign` is the one command a clerk or a script runs once per file (issue
// 18, acceptance 5: one process per signature, against pkcs11-tool), and ArgumentParser's parse was
// the biggest part of our own start-up: its reflection over every option (`Mirror`), its built-in
// flag and completion checks, and the first-time generic metadata of its property wrappers, many
// of which scan every protocol conformance in the binary (docs/PERFORMANCE.md, "PKCS#11 signing
// through SoftHSM2"). So the command's work lives in a plain struct that `Token.Sign` fills from
// ArgumentParser and `plainlySpelled` fills from the plain spelling, without touching an
// ArgumentParser type.
import ArgumentParser
import DurableFiles
import Signing
import TokenDriver
#if canImport(Glibc)
import Glibc
#endif

/// `token sign`'s options, as ArgumentParser sets them (defaults included), and what it does.
package struct SignRequest: Equatable {
    var slot: String
    var reader: String?
    var inputs: [String]
    var out: [String]
    var algorithm: String?
    var pinFile: String?
    var force: Bool
    var pkcs11: String?
    var module: String?
    /// gatewayd's socket (`--socket`; else GATEWAYD_SOCKET, else the daemon's default): while the
    /// daemon answers there, it signs (DaemonSigning.swift).
    var socket: String?

    /// What `Token.Sign.validate()` refuses (ArgumentParser says it with the usage), or nil.
    var usageProblem: String? {
        guard inputs.count == out.count else {
            return "--in và --out phải có cùng số tệp / --in and --out must name as many files (\(inputs.count) and \(out.count))"
        }
        if inputs.count > 1 && pkcs11 == nil {
            return "Ký nhiều tệp một lần cần --pkcs11; token PIV ký từng tệp / several files at once need --pkcs11; a PIV token signs one file per command"
        }
        return nil
    }

    /// The plain spelling of `gateway-token sign …` (`arguments` without the program's name):
    /// every option by its long name, `--name value`, each at most once, no value that starts with
    /// "-", --in and --out given, `usageProblem` nil. Anything else — help, a short or unknown
    /// option, `--name=value`, a repeat, a mistake — answers nil, and ArgumentParser parses the
    /// same arguments and says what it always says.
    package static func plainlySpelled(_ arguments: [String]) -> SignRequest? {
        guard arguments.first == "sign" else { return nil }
        // Plain variables, no dictionary: a dictionary's first use here costs a conformance scan.
        var slot, reader, algorithm, pinFile, pkcs11, module, socket: String?
        var inputs, out: [String]?
        var force = false
        var index = 1
        while index < arguments.count {
            let name = arguments[index]
            index += 1
            switch name {
            case "--force":
                guard !force else { return nil }
                force = true
            case "--in", "--out":
                // `parsing: .upToNextOption`: the values up to the next option.
                var values: [String] = []
                while index < arguments.count, !arguments[index].hasPrefix("-") {
                    values.append(arguments[index])
                    index += 1
                }
                guard !values.isEmpty else { return nil }
                if name == "--in" {
                    guard inputs == nil else { return nil }
                    inputs = values
                } else {
                    guard out == nil else { return nil }
                    out = values
                }
            case "--slot", "--reader", "--algorithm", "--pin-file", "--pkcs11", "--module", "--socket":
                guard index < arguments.count, !arguments[index].hasPrefix("-") else { return nil }
                let value = arguments[index]
                index += 1
                switch name {
                case "--slot": guard slot == nil else { return nil }; slot = value
                case "--reader": guard reader == nil else { return nil }; reader = value
                case "--algorithm": guard algorithm == nil else { return nil }; algorithm = value
                case "--pin-file": guard pinFile == nil else { return nil }; pinFile = value
                case "--pkcs11": guard pkcs11 == nil else { return nil }; pkcs11 = value
                case "--socket": guard socket == nil else { return nil }; socket = value
                default: guard module == nil else { return nil }; module = value
                }
            default:
                return nil
            }
        }
        guard let inputs, let out else { return nil }
        let request = SignRequest(
            slot: slot ?? Token.Selection.defaultSlot, reader: reader, inputs: inputs, out: out, algorithm: algorithm,
            pinFile: pinFile, force: force, pkcs11: pkcs11, module: module, socket: socket)
        return request.usageProblem == nil ? request : nil
    }

    package func run() throws {
        // While gatewayd runs it is the only process that opens a token: it signs, and the token is
        // not opened here. Only when nothing listens on its socket does the tool open the token.
        let daemon: DaemonTokenClient?
        do { daemon = try DaemonTokenClient.ifRunning(socket: socket) } catch { throw TokenCommandLine.fail(error.description) }
        if let daemon { return try signThroughDaemon(daemon) }
        let signer = try makeSigner()
        let chosen = try chosenAlgorithm(for: signer.keyType)
        // Every file read before the PIN is sent: an unreadable one costs no try.
        let digests = try inputs.map { input in
            do { return try FileDigest.compute(path: input, algorithm: chosen.digest) } catch {
                throw TokenCommandLine.fail("Không đọc được tệp / cannot read \(input): \(error)")
            }
        }
        do {
            switch signer {
            case .piv(let signer): try Token.Sign.write(try signer.signNow(digest: digests[0], algorithm: chosen, force: force), to: out[0])
            case .pkcs11(let signer): try signInOneSession(signer, digests: digests, algorithm: chosen)
            }
        } catch let failure as PIVToken.Failure {
            throw TokenCommandLine.fail(failure.description)
        } catch let error as PCSCError {
            throw TokenCommandLine.fail(error.description)
        } catch let error as PKCS11Error {
            throw TokenCommandLine.fail(error.description)
        }
    }

    /// The PKCS#11 key --pkcs11 names, or else the PIV token's slot (its PIN asked at the signature).
    private func makeSigner() throws -> CommandSigner {
        let pinFile = pinFile
        do {
            if let (module, uri) = try PKCS11Selection.resolve(uri: pkcs11, module: module) {
                // The session gets the PIN itself (`signInOneSession`); this source is never asked.
                return .pkcs11(try PKCS11Signer(module: module, uri: uri) { try PINEntry.read(file: pinFile) })
            }
            let slot = try Token.Selection.pivSlot(named: slot)
            return .piv(try PIVSigner(reader: try reader ?? Token.Selection.firstPIVReader(), slot: slot) { try Token.Sign.pin(from: pinFile) })
        } catch let exit as ExitCode {
            throw exit  // already said
        } catch {
            throw TokenCommandLine.fail(TokenCommandLine.message(error))
        }
    }

    /// --algorithm, checked against the key, or the key's preferred one.
    private func chosenAlgorithm(for keyType: SignerKeyType) throws -> SignatureAlgorithm {
        guard let algorithm else { return keyType.algorithms[0] }
        guard let named = SignatureAlgorithm(rawValue: algorithm) else {
            throw TokenCommandLine.fail("--algorithm: một trong / one of \(SignatureAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard keyType.algorithms.contains(named) else {
            throw TokenCommandLine.fail("--algorithm \(algorithm) không dùng được với khóa \(keyType) trên token / cannot be used with the token's \(keyType) key")
        }
        return named
    }

    /// The daemon's signing session (`PKCS11SigningSession`): the PIN flags read, one
    /// C_Login, each file's C_Sign (with the context-specific login of an always-authenticate
    /// key), C_Logout. The PIN is read once; when it is asked on the terminal, the flags are
    /// read first too, so that a blocked token or a final try is said before anyone types.
    private func signInOneSession(_ signer: PKCS11Signer, digests: [[UInt8]], algorithm: SignatureAlgorithm) throws {
        if pinFile == nil { try PKCS11Signer.checkFlags(module: signer.module, slot: signer.slot, force: force) }
        // The bytes as typed: the token judges a PKCS#11 PIN, not PIV's 6–8 digit rule.
        let lend = PKCS11SigningSession.lending(try PINEntry.read(file: pinFile))
        let session = try PKCS11SigningSession(signer: signer, force: force, pin: lend)
        defer { session.close() }
        for (index, digest) in digests.enumerated() {
            do { try Token.Sign.write(try session.sign(digest: digest, algorithm: algorithm, pin: lend), to: out[index]) } catch {
                guard inputs.count > 1 else { throw error }
                throw TokenCommandLine.fail("\(TokenCommandLine.message(error))\nChưa ký / not signed: \(inputs[index...].joined(separator: ", "))")
            }
        }
    }
}
