import Foundation

/// The signing tokens plugged into the box, as `GET /v1/status` and `gatewayd status` show them.
/// GatewayCore does not talk to tokens itself: gatewayd's token watcher (TokenDriver) provides this.
public struct TokenServiceStatus: Sendable, Codable, Equatable {
    /// Whether pcscd answers; "unavailable" while it is stopped (the watcher reconnects by itself).
    public var pcscd: String
    public var readers: [String]
    public var tokens: [TokenSummary]

    public init(pcscd: String, readers: [String], tokens: [TokenSummary]) {
        self.pcscd = pcscd
        self.readers = readers
        self.tokens = tokens
    }
}

public struct TokenSummary: Sendable, Codable, Equatable {
    public struct CertificateSummary: Sendable, Codable, Equatable {
        public var slot: String
        public var subject: String
        public var notAfter: Date

        public init(slot: String, subject: String, notAfter: Date) {
            self.slot = slot
            self.subject = subject
            self.notAfter = notAfter
        }

        enum CodingKeys: String, CodingKey { case slot, subject, notAfter = "not_after" }
    }

    public var reader: String
    /// The token model ("SafeNet eToken 5110"), from its USB identity, when known.
    public var model: String?
    /// USB vendor:product id, e.g. "0529:0620".
    public var usbID: String?
    public var atr: String
    public var piv: Bool
    public var certificates: [CertificateSummary]
    public var pinTriesLeft: Int?
    public var pinBlocked: Bool?
    /// Why the token cannot be used (not PIV, PIN blocked, unreadable …), for the operator.
    public var problem: String?
    public var insertedAt: Date

    public init(reader: String, model: String?, usbID: String?, atr: String, piv: Bool, certificates: [CertificateSummary],
                pinTriesLeft: Int?, pinBlocked: Bool?, problem: String?, insertedAt: Date) {
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
    }

    enum CodingKeys: String, CodingKey {
        case reader, model, usbID = "usb_id", atr, piv, certificates, pinTriesLeft = "pin_tries_left", pinBlocked = "pin_blocked"
        case problem, insertedAt = "inserted_at"
    }
}

/// Provided by whatever watches the tokens (gatewayd's `TokenWatcher`).
public protocol TokenStatusSource: Sendable {
    func tokenStatus() async -> TokenServiceStatus
}
