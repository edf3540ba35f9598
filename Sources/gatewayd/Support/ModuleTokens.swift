// The tokens of PKCS#11 modules as the daemon's token status shows them (issue 18): each token
// of a reader-less module (`[tokens] modules`: SoftHSM2, a network HSM) named by its `pkcs11:`
// URI where a card is named by its reader, and a module that cannot be loaded shown with its
// problem — never a failure of the whole status: the other tokens are still served.
import Foundation
import GatewayCore
import TokenDriver

enum ModuleTokens {
    /// Every configured module's tokens, or its problem. Blocking (module calls): off the actors.
    static func scan(_ modules: [String], at now: Date) -> [TokenSummary] {
        modules.flatMap { path in summaries(PKCS11ModuleReport.scan(modulePath: path), at: now) }
    }

    static func summaries(_ report: PKCS11ModuleReport, at now: Date) -> [TokenSummary] {
        if let problem = report.problem {
            return [TokenSummary(reader: report.module, model: nil, usbID: nil, atr: "", piv: false, certificates: [], pinTriesLeft: nil,
                                 pinBlocked: nil, problem: problem, insertedAt: now, backend: "pkcs11", module: report.module)]
        }
        return report.tokens.map { token in summary(token, reader: token.uri.description, module: report.module, at: now) }
    }

    /// One token of `module`; `reader`: what names it (its URI, or the PC/SC reader it is in).
    static func summary(_ token: PKCS11ModuleReport.Token, reader: String, module: String, at now: Date) -> TokenSummary {
        let problem: String? = if token.pinLocked { "PIN bị khóa / PIN blocked" } else if token.pinToBeChanged {
            token.problem ?? "Cần đổi mã PIN trước khi ký (gatewayd token change-pin) / the PIN must be changed before signing"
        } else { token.problem }
        return TokenSummary(
            reader: reader, model: [token.label, "(\(token.manufacturer) \(token.model))"].joined(separator: " "), usbID: nil, atr: "",
            piv: false, certificates: token.certificates.map { .init(slot: $0.slot, subject: $0.subject, notAfter: $0.notAfter) },
            pinTriesLeft: token.pinTriesLeft, pinBlocked: token.pinLocked, problem: problem, insertedAt: now, backend: "pkcs11", module: module)
    }

    /// The card in `reader` as `module` sees it: the slot named after the reader (OpenSC's way).
    static func card(in reader: String, module: String, at now: Date) -> TokenSummary? {
        let report = PKCS11ModuleReport.scan(modulePath: module)
        if let problem = report.problem {
            return TokenSummary(reader: reader, model: nil, usbID: nil, atr: "", piv: false, certificates: [], pinTriesLeft: nil,
                                pinBlocked: nil, problem: problem, insertedAt: now, backend: "pkcs11", module: module)
        }
        return report.tokens.first { $0.slotDescription == reader }.map { summary($0, reader: reader, module: module, at: now) }
    }
}
