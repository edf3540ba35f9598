import DocumentModel
import Foundation

/// Everything the daemon can be told, with the defaults a box runs on when the technician's file
/// says nothing. A plain value: parsed once at the door (`ConfigurationLoader`), then passed in.
public struct GatewayConfiguration: Sendable, Equatable {
    public static let defaultPath = "/etc/gatewayd/gatewayd.toml"
    public static let defaultDataDirectory = "/var/lib/gatewayd"

    public struct Agency: Sendable, Equatable {
        /// This commune's own agency code (mã định danh), e.g. `000.00.20.H13`.
        public var code: AgencyCode?
        /// Its name as it appears on documents, e.g. "UBND xã Hòa Tiến".
        public var name: String?
    }

    public struct Intake: Sendable, Equatable {
        /// Hot folder; `nil` means `<data-dir>/outbox`.
        public var hotFolder: String?
        public var hotFolderEnabled = true
        public var maximumDocumentSize: Int64 = 100_000_000
        public var diskReserve: Int64 = 200_000_000
        public var defaultRecipients: [AgencyCode] = []
        /// Wait after a file is closed before taking it, so its sidecar (copied just after it by
        /// some programs) is taken with it.
        public var settleDelay: Duration = .seconds(1)
        /// While intake is paused by a full disk, how often it looks for free space again.
        public var diskRetryInterval: Duration = .seconds(30)
    }

    public struct API: Sendable, Equatable {
        /// Unix socket; `nil` means `<data-dir>/run/gatewayd.sock`.
        public var socketPath: String?
        /// Group given the socket (mode 0660), so clerks' software in that group may use it.
        public var socketGroup: String?
        /// Optional TCP listener, `HOST:PORT` (e.g. `127.0.0.1:8750`). Off by default.
        public var tcpAddress: String?
    }

    /// The hub this box relays to (docs/protocol.md). With no `url` the relay does not run: the
    /// box keeps its documents queued.
    public struct Upstream: Sendable, Equatable {
        /// `https://HOST[:PORT]`, the hub's listener.
        public var url: String?
        /// PEM file of the CA(s) the hub's certificate must chain to.
        public var caFile: String?
        /// PEM files of this box's certificate (CN = the agency code) and its private key.
        public var certificateFile: String?
        public var keyFile: String?
        /// Optional SHA-256 of the hub certificate's SubjectPublicKeyInfo (32 bytes), checked
        /// after the CA and host-name checks, so a new certificate from the same CA for the same
        /// name is still refused unless it keeps the key.
        public var hubKeyPin: [UInt8]?
        public var connectTimeout: Duration = .seconds(10)
        /// Longest silence on a connection before it counts as broken (a black-holed link).
        public var idleTimeout: Duration = .seconds(60)
        /// How long one inbox request waits for something to arrive (the hub caps it at 60 s).
        public var longPoll: Duration = .seconds(30)
        /// Ordinary-lane uploads sent at once, each on its own connection (besides the express
        /// connection for urgent lanes). More than one hides the round trip per document on a
        /// high-latency 4G link; a large package still goes at the link's full rate alone.
        public var parallelUploads: Int = 2
        public var retryBase: Duration = .seconds(2)
        public var retryCap: Duration = .seconds(600)
        /// Decision 28/2018: warn when a document has waited longer than this for the link.
        public var maximumQueueAge: Duration = .seconds(4 * 3600)

        public var isConfigured: Bool { url != nil }
    }

    public var dataDirectory: String = GatewayConfiguration.defaultDataDirectory
    public var agency = Agency()
    public var intake = Intake()
    public var api = API()
    public var upstream = Upstream()
    /// `[inbox] folder`: where incoming documents are shown to clerks, one folder each (the
    /// counterpart of the hot folder); `nil` means `<data-dir>/inbox`.
    public var inboxFolder: String?
    public var logLevel: String = "info"

    public init() {}

    package var layout: StoreLayout { StoreLayout(dataDirectory: dataDirectory) }
    public var hotFolderPath: String { intake.hotFolder ?? layout.dataDirectory + "/outbox" }
    public var resolvedInboxFolder: String { inboxFolder ?? layout.dataDirectory + "/inbox" }
    public var socketPath: String { api.socketPath ?? layout.dataDirectory + "/run/gatewayd.sock" }
    package var storeLimits: StoreLimits {
        StoreLimits(maximumDocumentSize: intake.maximumDocumentSize, diskReserve: intake.diskReserve)
    }
}
