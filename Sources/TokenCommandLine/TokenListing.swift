// What `token list` shows, as one value: made here by the tool when it opens the readers and
// modules itself, and by gatewayd for `GET /v1/tokens` while it runs (issue 18: the daemon is the
// only process that opens a token). One scan for both, so the daemon's answer and the tool's own
// listing are the same reports (`TokenReport`, `PKCS11ModuleReport`) printed the same way.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TokenDriver

/// The PIV readers' reports and the PKCS#11 modules' tokens (keys named by their `pkcs11:` URIs).
package struct TokenListing: Sendable, Codable {
    package var piv: [TokenReport]
    /// Why the readers could not be listed (pcscd not running …); the modules are listed anyway.
    package var pivProblem: String?
    package var pkcs11: [PKCS11ModuleReport]
    /// Modules asked for (`--module`) that the daemon does not load: its configuration does not
    /// name them, and a request must not make it `dlopen` a path of the asker's choice
    /// (BoxSigningTokens.configuredModules). Empty when the tool lists by itself.
    package var notConfigured: [String]

    enum CodingKeys: String, CodingKey {
        case piv, pivProblem = "piv_problem", pkcs11, notConfigured = "not_configured"
    }

    /// The readers (each card's backend and module said by `table`) and the tokens of `modules`
    /// plus those of the modules that serve a card in a reader (OpenSC's for an ePass2003).
    /// Blocking: PC/SC and module calls.
    package static func scan(modules: [String], table: TokenModuleTable) -> TokenListing {
        var piv: [TokenReport] = []
        var pivProblem: String?
        do { piv = try TokenInventory.scan() } catch { pivProblem = error.description }
        var listed = modules
        for index in piv.indices where piv[index].cardPresent {
            let chosen = table.serving(atr: piv[index].atr, usb: piv[index].usb?.idText, piv: piv[index].piv)
            (piv[index].backend, piv[index].module) = (chosen.backend, chosen.module)
            if case .none = chosen { piv[index].problem = chosen.description }
            if let module = chosen.module, !listed.contains(module) { listed.append(module) }
        }
        return TokenListing(piv: piv, pivProblem: pivProblem, pkcs11: listed.map { PKCS11ModuleReport.scan(modulePath: $0) }, notConfigured: [])
    }
}
