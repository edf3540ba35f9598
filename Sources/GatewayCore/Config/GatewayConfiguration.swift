import DocumentModel
import Foundation
import SigningPolicy

/// Everything the daemon can be told, with the defaults a box runs on when the technician's file
/// says nothing. A plain value: parsed once at the door (`ConfigurationLoader`), then passed in.
package struct GatewayConfiguration: Sendable, Equatable {
    package static let defaultPath = "/etc/gatewayd/gatewayd.toml"
    package static let defaultDataDirectory = "/var/lib/gatewayd"

    package struct Agency: Sendable, Equatable {
        /// This commune's own agency code (mã định danh), e.g. `000.00.20.H13`.
        package var code: AgencyCode?
        /// Its name as it appears on documents, e.g. "UBND xã Hòa Tiến".
        package var name: String?
        /// Mã số thuế, `0123456789` or `0123456789-001`: what a CA writes (`MST:`) in the
        /// commune's organization certificate, compared when the seal is applied.
        package var taxCode: String?
        /// Mã ĐVQHNS, 7 digits: what some CAs write (`MNS:`) instead of an MST for a budget unit.
        package var budgetCode: String?
    }

    /// `[signing]` and `[[signing.leaders]]`: how documents are signed inside the box
    /// (docs/signing.md). The PIN is never here: a person types it for each session.
    package struct Signing: Sendable, Equatable {
        package static let defaultFont = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
        /// No unattended signing (issue 13): a session ends after at most 5 minutes, so a token
        /// left plugged in after its PIN was typed cannot go on signing.
        package static let maximumSessionTimeout: Duration = .seconds(300)

        /// The signatures a document needs when its metadata names none, in signing order
        /// (the organization's is always among them: `SigningFlow`).
        package var defaultSignatures: [SigningRole] = SigningFlow.order
        package var numbering: OutgoingRegister.Numbering = .single
        package var clock: ClockSynchronisation.Tolerance = .requireSynchronised
        /// Refuse to sign when revocation cannot be confirmed good (an offline box then cannot sign).
        package var requireRevocation = false
        package var sessionTimeout: Duration = Signing.maximumSessionTimeout
        /// Transparent PNG of the organization's seal, drawn over the leader's signature image.
        package var sealImage: String?
        /// The seal's real width when its PNG has no pHYs resolution.
        package var sealWidthMillimetres: Double?
        /// TrueType font of the text in appearances (Vietnamese needs its glyphs embedded).
        package var font: String = Signing.defaultFont
        /// RFC 3161 timestamp service; without one (or when it cannot be reached) signatures are B-B.
        package var timestampURL: String?
        /// Ký hiệu given to a document whose metadata has none, e.g. "QĐ-UBND".
        package var defaultNotation: String?
        /// Địa danh written before the date of issue, e.g. "Hòa Tiến".
        package var place: String?
        package var leaders: [ConfiguredLeader] = []
    }

    /// `[trust]`: the certificates signatures must chain to (the national root CA and the CAs
    /// the province uses), and whether revocation is asked (OCSP, CRL) for chains that reach one.
    package struct Trust: Sendable, Equatable {
        package var anchors: [String] = []
        package var checkRevocation = true
        /// How often an incoming verdict that could not be checked (a responder unreachable) is
        /// tried again; it is also tried at once when the hub's link comes back.
        package var recheckInterval: Duration = .seconds(3600)

        package init(anchors: [String] = [], checkRevocation: Bool = true, recheckInterval: Duration = .seconds(3600)) {
            (self.anchors, self.checkRevocation, self.recheckInterval) = (anchors, checkRevocation, recheckInterval)
        }
    }

    package struct Intake: Sendable, Equatable {
        /// Hot folder; `nil` means `<data-dir>/outbox`.
        package var hotFolder: String?
        package var hotFolderEnabled = true
        package var maximumDocumentSize: Int64 = 100_000_000
        package var diskReserve: Int64 = 200_000_000
        package var defaultRecipients: [AgencyCode] = []
        /// Wait after a file is closed before taking it, so its sidecar (copied just after it by
        /// some programs) is taken with it.
        package var settleDelay: Duration = .seconds(1)
        /// While intake is paused by a full disk, how often it looks for free space again.
        package var diskRetryInterval: Duration = .seconds(30)
    }

    package struct API: Sendable, Equatable {
        /// Unix socket; `nil` means `<data-dir>/run/gatewayd.sock`.
        package var socketPath: String?
        /// Group given the socket (mode 0660), so clerks' software in that group may use it.
        package var socketGroup: String?
        /// Optional TCP listener, `HOST:PORT` (e.g. `127.0.0.1:8750`). Off by default.
        package var tcpAddress: String?
        /// Optional TCP listener, `HOST:PORT`, serving `GET /metrics` and nothing else, for the
        /// province's monitoring: counts and states, no document and no write, so any address.
        package var metricsAddress: String?
        /// Connections served at once per listener; more wait in the kernel's backlog, so a flood
        /// of idle connections cannot take the file descriptors the store and the doors need.
        package var maximumConnections = 256
        /// A connection that sends nothing for this long (no request, or one half-sent) is closed;
        /// a long poll whose request was read whole is not idle.
        package var idleTimeout: Duration = .seconds(30)
    }

    /// `[console]`: the clerks' console over HTTPS on the office LAN (docs/console.md).
    package struct Console: Sendable, Equatable {
        package var enabled = true
        /// `HOST:PORT`; every address of the box by default, so the office's PCs and phones reach it.
        package var listen = "0.0.0.0:8443"
        /// The overview's warnings (docs/console.md, "Overview warnings"; Decision 28/2018/QĐ-TTg
        /// wants a signed document sent the same day, at the latest the next working day):
        /// a document awaiting the leader more than this many working days,
        package var warnSignatureDays = 2
        /// awaiting the seal more than this many working days,
        package var warnSealDays = 1
        /// signed or queued but not delivered for more than this many hours.
        package var warnUndeliveredHours = 4
    }

    /// The hub this box relays to (docs/protocol.md). With no `url` the relay does not run: the
    /// box keeps its documents queued.
    package struct Upstream: Sendable, Equatable {
        /// `https://HOST[:PORT]`, the hub's listener.
        package var url: String?
        /// PEM file of the CA(s) the hub's certificate must chain to.
        package var caFile: String?
        /// PEM files of this box's certificate (CN = the agency code) and its private key.
        package var certificateFile: String?
        package var keyFile: String?
        package var connectTimeout: Duration = .seconds(10)
        /// Longest silence on a connection before it counts as broken (a black-holed link).
        package var idleTimeout: Duration = .seconds(60)
        /// How long one inbox request waits for something to arrive (the hub caps it at 60 s).
        package var longPoll: Duration = .seconds(30)
        /// Ordinary-lane uploads sent at once, each on its own connection (besides the express
        /// connection for urgent lanes). More than one hides the round trip per document on a
        /// high-latency 4G link; a large package still goes at the link's full rate alone.
        package var parallelUploads: Int = 2
        package var retryBase: Duration = .seconds(2)
        package var retryCap: Duration = .seconds(600)
        /// Decision 28/2018: warn when a document has waited longer than this for the link.
        package var maximumQueueAge: Duration = .seconds(4 * 3600)

        package var isConfigured: Bool { url != nil }
    }

    /// `[enrolment]`: the box gets its certificate from the hub with a one-time token instead of
    /// files placed by hand (docs/protocol.md, "Enrolment"). With it, `[upstream] certificate`
    /// and `key` default to `<data_dir>/tls/box.pem` and `box.key`, which the enrolment writes.
    package struct Enrolment: Sendable, Equatable {
        /// `https://HOST[:PORT]`, hubd's enrolment listener (server authentication only).
        package var url: String?
        /// The one-time token; also read from `<data_dir>/enrolment-token` (where firstboot puts
        /// gateway.toml's), and given to `gatewayd enroll --token`.
        package var token: String?

        package var isConfigured: Bool { url != nil }
    }

    package var dataDirectory: String = GatewayConfiguration.defaultDataDirectory
    package var agency = Agency()
    package var intake = Intake()
    package var api = API()
    package var console = Console()
    package var upstream = Upstream()
    package var enrolment = Enrolment()
    package var signing = Signing()
    package var trust = Trust()
    /// `[tokens]`: which PKCS#11 modules serve which tokens (GatewayConfiguration+Tokens.swift).
    package var tokens = Tokens()
    /// `[backup]`: scheduled backups off the box (ConfigurationLoader+Backup.swift).
    package var backup = Backup()
    /// `[inbox] folder`: where incoming documents are shown to clerks, one folder each (the
    /// counterpart of the hot folder); `nil` means `<data-dir>/inbox`.
    package var inboxFolder: String?
    /// `[share] group`: the Samba users' group, given to the shared folders the daemon makes
    /// (`SharedFolders`); nil leaves them the daemon's group.
    package var shareGroup: String?
    package var logLevel: String = "info"

    package init() {}

    package var layout: StoreLayout { StoreLayout(dataDirectory: dataDirectory) }
    package var hotFolderPath: String { intake.hotFolder ?? layout.dataDirectory + "/outbox" }
    package var resolvedInboxFolder: String { inboxFolder ?? layout.dataDirectory + "/inbox" }
    package var socketPath: String { api.socketPath ?? layout.dataDirectory + "/run/gatewayd.sock" }
    /// `[upstream]` with, when the box enrols, its certificate and key defaulted to the files the
    /// enrolment writes in the data directory (`BoxIdentityFiles`).
    package var resolvedUpstream: Upstream {
        guard enrolment.isConfigured else { return upstream }
        var resolved = upstream
        let files = BoxIdentityFiles(dataDirectory: dataDirectory)
        if resolved.certificateFile == nil { resolved.certificateFile = files.certificate }
        if resolved.keyFile == nil { resolved.keyFile = files.key }
        return resolved
    }
    /// `[tokens]` with every module a path: a name alone is that file in `module_dir`
    /// (`<data_dir>/modules` unless set). What loads modules takes these, never `tokens`.
    package var resolvedTokens: Tokens { tokens.resolved(in: tokens.moduleDirectory ?? layout.dataDirectory + "/modules") }
    /// `[agency]` as the signing rules compare an organization certificate against it.
    package var signingAgency: SigningAgency {
        SigningAgency(code: agency.code, name: agency.name, taxCode: agency.taxCode, budgetCode: agency.budgetCode)
    }
    package var storeLimits: StoreLimits {
        StoreLimits(maximumDocumentSize: intake.maximumDocumentSize, diskReserve: intake.diskReserve)
    }
}
