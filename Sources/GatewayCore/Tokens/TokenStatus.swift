import Foundation

/// The signing tokens plugged into the box, as `GET /v1/status` and `gatewayd status` show them.
/// GatewayCore does not talk to tokens itself: gatewayd's token watcher (TokenDriver) provides this.
package struct TokenServiceStatus: Sendable, Codable, Equatable {
    /// Whether pcscd answers; "unavailable" while it is stopped (the watcher reconnects by itself).
    package var pcscd: String
    package var readers: [String]
    package var tokens: [TokenSummary]

    package init(pcscd: String, readers: [String], tokens: [TokenSummary]) {
        self.pcscd = pcscd
        self.readers = readers
        self.tokens = tokens
    }
}

package struct TokenSummary: Sendable, Codable, Equatable {
    package struct CertificateSummary: Sendable, Codable, Equatable {
        package var slot: String
        package var subject: String
        package var notAfter: Date

        package init(slot: String, subject: String, notAfter: Date) {
            self.slot = slot
            self.subject = subject
            self.notAfter = notAfter
        }

        enum CodingKeys: String, CodingKey { case slot, subject, notAfter = "not_after" }
    }

    package var reader: String
    /// The token model ("SafeNet eToken 5110"), from its USB identity, when known.
    package var model: String?
    /// USB vendor:product id, e.g. "0529:0620".
    package var usbID: String?
    package var atr: String
    package var piv: Bool
    package var certificates: [CertificateSummary]
    package var pinTriesLeft: Int?
    package var pinBlocked: Bool?
    /// Why the token cannot be used (not PIV, PIN blocked, unreadable …), for the operator.
    package var problem: String?
    package var insertedAt: Date
    /// Which backend serves the token: "piv", "pkcs11", or "none" (and `problem` says what to install).
    package var backend: String?
    /// The PKCS#11 module that serves it.
    package var module: String?

    package init(reader: String, model: String?, usbID: String?, atr: String, piv: Bool, certificates: [CertificateSummary],
                pinTriesLeft: Int?, pinBlocked: Bool?, problem: String?, insertedAt: Date, backend: String? = nil, module: String? = nil) {
        self.reader = reader
        self.model = model
        self.usbID = usbID
        self.atr = atr
        self.piv = piv
        self.certificates = certificates
        self.pinTriesLeft = pinTriesLeft
        self.pinBlocked = pinBlocked
        self.problem = problem
        self.insertedAt = insertedAt
        self.backend = backend
        self.module = module
    }

    enum CodingKeys: String, CodingKey {
        case reader, model, usbID = "usb_id", atr, piv, certificates, pinTriesLeft = "pin_tries_left", pinBlocked = "pin_blocked"
        case problem, insertedAt = "inserted_at", backend, module
    }
}

/// Provided by whatever watches the tokens (gatewayd's `TokenWatcher`).
package protocol TokenStatusSource: Sendable {
    func tokenStatus() async -> TokenServiceStatus
    /// The token in `reader` read again: its PIN tries change with a signing session, and the
    /// status is otherwise read once per insertion. nil when no token is there.
    func reread(reader: String) async -> TokenSummary?
    /// `GET /v1/tokens`: the readers and the configured modules' tokens as `gateway-token list
    /// --json` reads them (its `TokenListing`), plus those of `modules` the configuration names,
    /// as JSON. Bytes, not a value: the reports are TokenDriver's types, which this library does
    /// not link; the daemon encodes them where they are known. nil: this source cannot list.
    func tokenList(modules: [String]) async -> [UInt8]?
}

extension TokenStatusSource {
    /// Sources that never change by themselves (tests) answer with what they have.
    package func reread(reader: String) async -> TokenSummary? { await tokenStatus().tokens.first { $0.reader == reader } }
    package func tokenList(modules: [String]) async -> [UInt8]? { nil }
}
