// The daemon's view of the signing tokens: follows the hot-plug monitor, identifies each token
// once per insertion (USB model, which backend and module serve it, certificates, PIN tries
// left), lists the tokens of the reader-less PKCS#11 modules at start and on demand, logs what
// happens for the technician, and gives the list to `GET /v1/status` and the console.
import Dispatch
import Foundation
import GatewayCore
import Logging
import ServiceLifecycle
import SessionTokens
import TimeJSON
import TokenCommandLine
import TokenDriver
import TokenHotPlug

actor TokenWatcher: Service, TokenStatusSource {
    private let logger: Logger
    private var pcscdAvailable = false
    private var readers: Set<String> = []
    private var tokens: [String: TokenSummary] = [:]
    /// The tokens of `[tokens] modules` (or a module's problem), as last listed.
    private var moduleTokens: [TokenSummary] = []
    private let modules: [String]
    private let table: TokenModuleTable
    /// Identification talks to the card (blocking PC/SC calls): off the actor, one at a time.
    private let queue = DispatchQueue(label: "gatewayd.token-identify")

    init(logger: Logger, tokens: GatewayConfiguration.Tokens = .init()) {
        self.logger = logger
        modules = tokens.modules
        table = TokenModuleTable(tokens)
    }

    /// The modules' tokens are listed again on each request (no polling): a network HSM's or
    /// SoftHSM2's tokens have no hot-plug event to follow.
    func tokenStatus() async -> TokenServiceStatus {
        if !modules.isEmpty { moduleTokens = await listModules() }
        return TokenServiceStatus(pcscd: pcscdAvailable ? "ok" : "unavailable", readers: readers.sorted(),
                                  tokens: tokens.values.sorted { $0.reader < $1.reader } + moduleTokens)
    }

    /// `GET /v1/tokens` (`gateway-token list` while the daemon runs): the tool's own scan
    /// (`TokenListing`) of the readers and the configured modules, run here on the queue that
    /// identifies inserted cards, so the two never talk to a card at once. A module asked for
    /// that the configuration does not name is named back, never loaded (BoxSigningTokens'
    /// rule: a path from a request must not be `dlopen`ed in the daemon).
    func tokenList(modules asked: [String]) async -> [UInt8]? {
        let configured = BoxSigningTokens(modules: modules, table: table).configuredModules
        var listed = modules
        for module in asked where configured.contains(module) && !listed.contains(module) { listed.append(module) }
        let (table, modules) = (table, listed)
        var listing = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: TokenListing.scan(modules: modules, table: table)) }
        }
        listing.notConfigured = asked.filter { !configured.contains($0) }
        return try? Array(GatewayJSON.encoder.encode(listing))
    }

    private func listModules() async -> [TokenSummary] {
        let modules = modules
        return await withCheckedContinuation { continuation in queue.async { continuation.resume(returning: ModuleTokens.scan(modules, at: Date())) } }
    }

    func run() async throws {
        // Listed at start, each token or module problem logged: a broken module is said once
        // here, and the daemon goes on serving the other tokens.
        moduleTokens = await listModules()
        for token in moduleTokens { log(token) }
        for await event in ReaderMonitor.events().cancelOnGracefulShutdown() {
            await handle(event)
        }
    }

    private func handle(_ event: ReaderEvent) async {
        switch event {
        case .readerAdded(let reader):
            pcscdAvailable = true
            readers.insert(reader)
            logger.info("reader connected", metadata: ["reader": "\(reader)"])
        case .readerRemoved(let reader):
            readers.remove(reader)
            logger.info("reader disconnected", metadata: ["reader": "\(reader)"])
        case .cardInserted(let reader, let atr):
            pcscdAvailable = true
            // Logged at once, before identification, so an operator sees the token arrive.
            logger.notice("token inserted / đã cắm token", metadata: ["reader": "\(reader)", "atr": "\(hex(atr))"])
            let summary = await identify(reader: reader, atr: atr)
            // The token may have left while it was being read: only keep it if it is still in.
            guard readers.contains(reader), !summary.isGone else { return }
            tokens[reader] = summary.value
            log(summary.value)
        case .cardRemoved(let reader):
            tokens[reader] = nil
            logger.notice("token removed / đã rút token", metadata: ["reader": "\(reader)"])
        case .serviceLost(let error):
            pcscdAvailable = false
            logger.warning("pcscd unavailable, reconnecting / dịch vụ thẻ không chạy, đang kết nối lại", metadata: ["error": "\(error)"])
        case .serviceConnected:
            pcscdAvailable = true
            logger.info("pcscd answers / dịch vụ thẻ đang chạy", metadata: ["readers": "\(readers.count)"])
        case .serviceRestored:
            pcscdAvailable = true
            logger.notice("pcscd available again / dịch vụ thẻ đã chạy lại")
        }
    }

    /// One look at the readers and the modules, without the hot-plug monitor: `gatewayd doctor`
    /// while the daemon is stopped. pcscd not answering shows as "unavailable", as in the daemon.
    func scanOnce() async -> TokenServiceStatus {
        let found = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { () throws(PCSCError) in try TokenInventory.scan() }) }
        }
        if case .success(let reports) = found {
            pcscdAvailable = true
            for report in reports {
                readers.insert(report.reader)
                if report.cardPresent { tokens[report.reader] = await identify(reader: report.reader, atr: []).value }
            }
        }
        return await tokenStatus()
    }

    /// After a signing session, for its page's "tries left now": the card read again and kept
    /// when it could be read (a card busy or gone keeps what was known; its removal is an event).
    func reread(reader: String) async -> TokenSummary? {
        if reader.hasPrefix("pkcs11:") { return await tokenStatus().tokens.first { $0.reader == reader } }
        guard let known = tokens[reader] else { return nil }
        var summary = await identify(reader: reader, atr: []).value
        guard summary.backend == "piv" || summary.backend == "pkcs11", tokens[reader] != nil else { return tokens[reader] }
        (summary.atr, summary.insertedAt) = (known.atr, known.insertedAt)
        tokens[reader] = summary
        return summary
    }

    private func identify(reader: String, atr: [UInt8]) async -> (value: TokenSummary, isGone: Bool) {
        let table = table
        let read: (Result<TokenReport, PCSCError>, TokenModuleTable.Serving?, TokenSummary?) = await withCheckedContinuation { continuation in
            queue.async {
                let report = Result { () throws(PCSCError) -> TokenReport in try TokenInventory.report(reader: reader) }
                guard case .success(let found) = report, found.cardPresent else { return continuation.resume(returning: (report, nil, nil)) }
                let serving = table.serving(atr: found.atr, usb: found.usb?.idText, piv: found.piv)
                // A card PIV does not serve, read through the module that does (OpenSC's, a vendor's).
                let card = serving.module.flatMap { ModuleTokens.card(in: reader, module: $0, at: Date()) }
                continuation.resume(returning: (report, serving, card))
            }
        }
        let (report, serving, card) = read
        let now = Date()
        switch report {
        case .failure(let error):
            return (TokenSummary(reader: reader, model: nil, usbID: nil, atr: hex(atr), piv: false, certificates: [], pinTriesLeft: nil,
                                 pinBlocked: nil, problem: error.description, insertedAt: now), false)
        case .success(let report):
            var summary = TokenSummary(
                reader: reader, model: report.usb?.displayName, usbID: report.usb?.idText, atr: report.atr ?? hex(atr), piv: report.piv,
                certificates: report.certificates.map { .init(slot: $0.slot, subject: $0.subject, notAfter: $0.notAfter) },
                pinTriesLeft: report.pinTriesLeft, pinBlocked: report.pinBlocked,
                problem: report.pinBlocked == true ? "PIN bị khóa / PIN blocked" : report.problem, insertedAt: now,
                backend: serving?.backend, module: serving?.module)
            switch serving {
            case .pkcs11(let module, _)?:
                if let card {
                    (summary.certificates, summary.pinTriesLeft, summary.pinBlocked, summary.problem) = (card.certificates, card.pinTriesLeft, card.pinBlocked, card.problem)
                } else {
                    summary.problem = "\(module) không thấy token trong đầu đọc này / sees no token in this reader"
                }
            case .none(let advice)?: summary.problem = advice
            case .piv?, nil: break
            }
            return (summary, !report.cardPresent)
        }
    }

    private func log(_ token: TokenSummary) {
        var metadata: Logger.Metadata = ["reader": "\(token.reader)", "atr": "\(token.atr)", "piv": "\(token.piv)", "backend": "\(token.backend ?? "")"]
        if let module = token.module { metadata["module"] = "\(module)" }
        if let model = token.model { metadata["model"] = "\(model)" }
        if let usb = token.usbID { metadata["usb"] = "\(usb)" }
        if let tries = token.pinTriesLeft { metadata["pin_tries_left"] = "\(tries)" }
        for certificate in token.certificates { metadata["cert_\(certificate.slot)"] = "\(certificate.subject)" }
        if token.piv || (token.backend == "pkcs11" && token.problem == nil) {
            logger.notice("token identified / đã nhận token", metadata: metadata)
        } else {
            // Present, but we cannot sign with it: say so with its ATR, which identifies the card,
            // and what serves it (or what to install).
            metadata["problem"] = "\(token.problem ?? "")"
            logger.warning("token present but not served / token không dùng được", metadata: metadata)
        }
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02X", $0) }.joined() }
}
