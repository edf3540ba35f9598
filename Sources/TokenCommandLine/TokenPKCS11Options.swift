// `--pkcs11 URI` and `--module PATH` of the token commands (`token sign`, `token change-pin`): a
// token on a PKCS#11 module instead of the PIV token in a reader. One parser for both commands.
import ArgumentParser
import Signing
import TokenDriver

package struct PKCS11Selection: ParsableArguments {
    package init() {}
    @Option(name: .customLong("pkcs11"), help: "A token (and for sign, its key) on a PKCS#11 module, named by its RFC 7512 URI (pkcs11:token=…;id=%01), instead of the PIV token.")
    var uri: String?
    @Option(help: "With --pkcs11, the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so), unless the URI names it (?module-path=).")
    var module: String?

    /// The module, loaded, and the URI; nil without --pkcs11.
    func resolve() throws -> (PKCS11Module, PKCS11URI)? {
        try Self.resolve(uri: uri, module: module)
    }

    /// The URI as gatewayd takes it (`token sign`, `token change-pin` while it runs): `--module`
    /// as its `module-path`, which the daemon loads only if its configuration names it.
    static func daemonKey(uri: String, module: String?) throws -> String {
        guard let module else { return uri }
        do {
            var parsed = try PKCS11URI(uri)
            parsed.modulePath = module
            return parsed.description
        } catch {
            throw TokenCommandLine.fail("--pkcs11: \(error.description)")
        }
    }

    static func resolve(uri: String?, module: String?) throws -> (PKCS11Module, PKCS11URI)? {
        guard let uri else {
            if module != nil { throw TokenCommandLine.fail("--module cần --pkcs11 / --module needs --pkcs11") }
            return nil
        }
        let parsed: PKCS11URI
        do { parsed = try PKCS11URI(uri) } catch { throw TokenCommandLine.fail("--pkcs11: \(error.description)") }
        guard let path = module ?? parsed.modulePath else {
            throw TokenCommandLine.fail("--pkcs11: cần --module (thư viện PKCS#11 của token) / --module is needed (the token's PKCS#11 library)")
        }
        do { return (try PKCS11Module.load(path: path), parsed) } catch { throw TokenCommandLine.fail(error.description) }
    }
}

/// The two signers `token sign` drives: a PIV slot's (its blocking `signNow`), or a PKCS#11
/// key's (signed in a `PKCS11SigningSession`).
enum CommandSigner {
    case piv(PIVSigner)
    case pkcs11(PKCS11Signer)

    var keyType: SignerKeyType {
        switch self {
        case .piv(let signer): signer.keyType
        case .pkcs11(let signer): signer.keyType
        }
    }
}
