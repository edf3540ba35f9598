// The signing stage's tokens as the daemon gives them: PIV cards and PKCS#11 tokens behind one
// `SigningTokens`, so the stage and the console never ask which backend serves a token (issue 18).
import Dispatch
import GatewayCore
import TokenDriver
import X509

package struct BoxSigningTokens: SigningTokens {
    let piv: PIVSigningTokens
    let pkcs11: PKCS11SigningTokens
    /// `[tokens] modules`: modules without a reader, searched for a `pkcs11:` key without `module-path`.
    let modules: [String]
    /// Which module serves a card in a reader that PIV does not (OpenSC's, `[[tokens.module_for]]`).
    let table: TokenModuleTable
    /// `modules` loaded once and kept while this value lives (`keepingModulesLoaded`). Unheld, a
    /// module is unloaded when its session ends (`C_Finalize`) and loaded again for the next one:
    /// SoftHSM2 reads its configuration and token directory at every `C_Initialize`, a network HSM
    /// would log its client in again, and a signature through the daemon cost more than
    /// pkcs11-tool's whole process (docs/PERFORMANCE.md, bench-pkcs11). Reader-less modules only:
    /// OpenSC's, reached through a reader, is loaded per use as before, holding no card between.
    let held: [PKCS11Module]

    /// As `[tokens]` says. `keepingModulesLoaded`: the daemon's, which signs for its whole life
    /// (after `ModuleProbes` tried each module in a child); one-shot commands load per use.
    package init(intermediates: [Certificate] = [], tokens: GatewayConfiguration.Tokens, keepingModulesLoaded: Bool = false) {
        self.init(intermediates: intermediates, modules: tokens.modules, table: TokenModuleTable(tokens), keepingModulesLoaded: keepingModulesLoaded)
    }

    package init(intermediates: [Certificate] = [], modules: [String], table: TokenModuleTable, keepingModulesLoaded: Bool = false) {
        piv = PIVSigningTokens(intermediates: intermediates)
        pkcs11 = PKCS11SigningTokens(intermediates: intermediates)
        self.modules = modules
        self.table = table
        // One that cannot be loaded now is not held: each use tries it again and says why.
        held = keepingModulesLoaded ? modules.compactMap { try? PKCS11Module.load(path: $0) } : []
    }

    /// `reader` or `key` a `pkcs11:` URI: that token and key (the console names a module's token
    /// by its URI, as it names a card by its reader). A reader whose card PIV does not serve: the
    /// module the table gives, the card found by the reader's name (OpenSC names each slot after
    /// its reader). Neither named: the one PIV token, or else the one token of the modules.
    package func open(reader: String?, key: String?, pin: SessionPIN, confirmLastTry: Bool) async throws(SessionTokenFailure) -> any SessionToken {
        let opened = await withCheckedContinuation { (continuation: CheckedContinuation<Result<any SessionToken, SessionTokenFailure>, Never>) in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(SessionTokenFailure) -> any SessionToken in
                    try openNow(reader: reader, key: key, pin: pin, confirmLastTry: confirmLastTry)
                })
            }
        }
        return try opened.get()
    }

    func openNow(reader: String?, key: String?, pin: SessionPIN, confirmLastTry: Bool) throws(SessionTokenFailure) -> any SessionToken {
        let named = try Self.pkcs11URIs(reader: reader, key: key)
        if !named.isEmpty {
            let uri = Self.merged(named)
            try checkConfigured(uri)
            // The reader-less modules only: OpenSC's is reached through its reader (or module-path=),
            // so that a URI never makes OpenSC open every card in the box.
            return try pkcs11.openNow(uri: uri, modules: modules, pin: pin, confirmLastTry: confirmLastTry)
        }
        if let reader, case .pkcs11(let module, _)? = configuredChoice(reader: reader) {
            return try openInReader(reader, module: module, pin: pin, confirmLastTry: confirmLastTry)
        }
        do throws(SessionTokenFailure) {
            return try piv.openNow(reader: reader, key: key, pin: pin, confirmLastTry: confirmLastTry)
        } catch .noToken(let why) {
            if let reader {
                // The card is there but is not PIV: OpenSC's or a vendor's module may serve it.
                let serving = serving(reader: reader)
                guard case .pkcs11(let module, _) = serving else { throw .noToken("\(why) — \(serving)") }
                return try openInReader(reader, module: module, pin: pin, confirmLastTry: confirmLastTry)
            }
            // No PIV token anywhere: the one token of the configured modules, if there is one.
            guard !modules.isEmpty else { throw .noToken(why) }
            return try pkcs11.openNow(uri: PKCS11URI(), modules: modules, pin: pin, confirmLastTry: confirmLastTry)
        }
    }

    /// Every module the configuration names. The reader and key come from outside the daemon (the
    /// console's form, the local API): a `module-path=` in them that the daemon would `dlopen` as
    /// given runs the sender's file inside the daemon — a library's constructors run at `dlopen`,
    /// before any check of what it is — and a clerk's PC can put files on the box (the shares).
    /// So a request names a module only by a path the configuration names, compared exactly.
    package var configuredModules: [String] { modules + [table.openSCModule] + table.choices.map(\.module) }

    func checkConfigured(_ uri: PKCS11URI) throws(SessionTokenFailure) {
        guard let path = uri.modulePath, !configuredModules.contains(path) else { return }
        throw .token("module-path=\(path) không phải mô-đun PKCS#11 trong cấu hình ([tokens] modules, opensc_module, module_for): không nạp / "
            + "is not a PKCS#11 module the configuration names: not loaded")
    }

    /// The card in `reader` through `module`: the slot OpenSC (and most modules) names after the reader.
    func openInReader(_ reader: String, module: String, pin: SessionPIN, confirmLastTry: Bool) throws(SessionTokenFailure) -> any SessionToken {
        let slot: PKCS11Module.Slot?
        do { slot = try PKCS11Module.load(path: module).slots().first { $0.description == reader } } catch {
            throw PKCS11SigningTokens.failure(error, opening: true)
        }
        guard let slot else { throw .noToken("\(module) không thấy token trong / sees no token in \(reader)") }
        var uri = PKCS11URI(token: slot.token?.label)
        uri.slotID = UInt(slot.id)
        uri.modulePath = module
        return try pkcs11.openNow(uri: uri, modules: [], pin: pin, confirmLastTry: confirmLastTry)
    }

    /// A `[[tokens.module_for]]` entry for the card in `reader` (it wins over PIV); nil without one.
    func configuredChoice(reader: String) -> TokenModuleTable.Serving? {
        guard !table.choices.isEmpty else { return nil }
        let serving = serving(reader: reader)
        if case .pkcs11(_, let because) = serving, because.hasPrefix("[[tokens.module_for]]") { return serving }
        return nil
    }

    func serving(reader: String) -> TokenModuleTable.Serving {
        guard let report = try? TokenInventory.report(reader: reader) else { return .none(advice: "không đọc được / cannot read \(reader)") }
        return table.serving(atr: report.atr, usb: report.usb?.idText, piv: report.piv)
    }

    /// `reader` and `key` where they are `pkcs11:` URIs (the console names a module's token so).
    static func pkcs11URIs(reader: String?, key: String?) throws(SessionTokenFailure) -> [PKCS11URI] {
        try [reader, key].compactMap { $0 }.filter { $0.lowercased().hasPrefix("pkcs11:") }.map { text throws(SessionTokenFailure) in
            do throws(PKCS11URI.ParseError) { return try PKCS11URI(text) } catch { throw .token(error.description) }
        }
    }

    /// A reader's URI (the token) and a key's URI (its id) together; the key's attributes win.
    static func merged(_ uris: [PKCS11URI]) -> PKCS11URI {
        var uri = uris[0]
        for other in uris.dropFirst() {
            uri.token = other.token ?? uri.token
            uri.serial = other.serial ?? uri.serial
            uri.manufacturer = other.manufacturer ?? uri.manufacturer
            uri.model = other.model ?? uri.model
            uri.id = other.id ?? uri.id
            uri.object = other.object ?? uri.object
            uri.slotID = other.slotID ?? uri.slotID
            uri.modulePath = other.modulePath ?? uri.modulePath
        }
        return uri
    }
}

extension TokenModuleTable {
    /// `[tokens] opensc_module` and `[[tokens.module_for]]`.
    package init(_ tokens: GatewayConfiguration.Tokens) {
        self.init(choices: tokens.moduleFor.map { Choice(atr: $0.atr, usb: $0.usb, module: $0.module) }, openSCModule: tokens.openSCModule)
    }
}
