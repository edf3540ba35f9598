import DocumentModel
import DocumentSigning
import EdXML
import DocumentSigning
import Foundation
import TrustHTTP
import Logging
import NIOPosix
import ServiceLifecycle
import Signing
import X509

/// The relay inside gatewayd, as the single-purpose services the daemon runs in its service group
/// (`services`, in start order): the hub's connections, the directory refresher, packaging
/// (signed → queued), the upload workers, the inbox puller and the clerks' statuses. They share a
/// `RelayContext`; this type builds it and answers the local API (status, clerks' statuses).
package final class RelayService: Sendable {
    package struct Settings: Sendable {
        package var agencyCode: AgencyCode
        package var agencyName: String?
        package var schedule: RetrySchedule
        package var ageRule: QueueAgeRule
        package var longPoll: Duration
        package var parallelUploads: Int
        package var hubURL: String
        /// Packages up to this size go in one `POST /v1/packages`; larger ones by tus.
        package var wholeSubmissionLimit: Int64 = 1 << 20
        package var maximumIncomingSize: Int64
        /// Free space incoming downloads leave on the store's disk (`intake.disk_reserve`).
        package var diskReserve: Int64 = 0
        /// Where clerks find incoming documents (`[inbox] folder`).
        package var inboxFolder: String
        /// Checks the signatures of what comes down (`[trust]`); without anchors every verdict is
        /// "could not be checked", never "valid".
        package var verifier = IncomingVerifier(anchors: [], revocation: nil)
        /// How often a "could not be checked" verdict is tried again (`[trust] recheck_interval`).
        package var recheckInterval: Duration = .seconds(3600)

        package init(configuration: GatewayConfiguration) throws(RelayError) {
            guard let code = configuration.agency.code else {
                throw RelayError(kind: .permanent, code: .notConfigured, vi: "Chưa cấu hình agency.code (mã định danh của xã)",
                                 en: "agency.code (this commune's code) is not configured; the relay needs it")
            }
            agencyCode = code
            agencyName = configuration.agency.name
            let upstream = configuration.upstream
            schedule = RetrySchedule(base: upstream.retryBase, cap: upstream.retryCap)
            ageRule = QueueAgeRule(maximumAge: upstream.maximumQueueAge)
            longPoll = upstream.longPoll
            parallelUploads = upstream.parallelUploads
            hubURL = upstream.url ?? ""
            // 1 GiB, hubd's own default limit (announced as Hub-Max-Package-Bytes), unless the
            // box's documents may be larger.
            maximumIncomingSize = max(configuration.intake.maximumDocumentSize * 2, 1 << 30)
            diskReserve = configuration.intake.diskReserve
            inboxFolder = configuration.resolvedInboxFolder
            // Anchors that cannot be read were logged by the signing stage's loading at start.
            let anchors = CertificateStanding.anchors(configuration.trust.anchors).certificates
            verifier = IncomingVerifier(anchors: anchors,
                                        revocation: configuration.trust.checkRevocation
                                            ? RevocationChecker(fetcher: AsyncHTTPTrustFetcher(), cache: RevocationCache()) : nil)
            recheckInterval = configuration.trust.recheckInterval
        }

        package init(agencyCode: AgencyCode, agencyName: String? = nil, schedule: RetrySchedule = RetrySchedule(),
                     ageRule: QueueAgeRule = QueueAgeRule(maximumAge: .seconds(4 * 3600)), longPoll: Duration = .seconds(30),
                     parallelUploads: Int = 1, hubURL: String = "", maximumIncomingSize: Int64 = 1 << 30, inboxFolder: String) {
            self.agencyCode = agencyCode
            self.agencyName = agencyName
            self.schedule = schedule
            self.ageRule = ageRule
            self.longPoll = longPoll
            self.parallelUploads = parallelUploads
            self.hubURL = hubURL
            self.maximumIncomingSize = maximumIncomingSize
            self.inboxFolder = inboxFolder
        }
    }

    package var settings: Settings { context.settings }
    package let context: RelayContext
    let clerkStatuses: ClerkStatusService

    /// The relay over the real hub (`RelayClient`), its receipts checked against the hub CA.
    /// `identity`: the box's certificate held for renewal (both the TLS client and the envelopes'
    /// signer follow its switches); nil reads `[upstream] certificate`/`key` once.
    package convenience init(configuration: GatewayConfiguration, store: DocumentStore, ioPool: NIOThreadPool, logger: Logger,
                             identity: BoxIdentity? = nil) throws(RelayError) {
        let settings = try Settings(configuration: configuration)
        let clientSettings = try RelayClient.Settings(configuration.resolvedUpstream)
        let hubRoots: [Certificate]
        do { hubRoots = try DocumentVerifier.trustAnchors(pemFile: clientSettings.caFile) } catch {
            throw RelayError(kind: .untrusted, code: .hubCA, vi: "Không đọc được CA của cấp trên \(clientSettings.caFile): \(error)",
                             en: "Cannot read the hub CA \(clientSettings.caFile): \(error)")
        }
        let boxSigner: any Signer
        if let identity { boxSigner = identity } else {
            boxSigner = try RelayContext.boxSigner(keyFile: clientSettings.keyFile, certificateFile: clientSettings.certificateFile)
        }
        let client = try RelayClient(settings: clientSettings, ioPool: ioPool, logger: logger, identity: identity)
        self.init(context: RelayContext(settings: settings, store: store, hub: client, boxSigner: boxSigner, checkReceipt: { der, expected, now throws(RelayError) in
            try await ReceiptVerifier.verify(der, expected: expected, hubRoots: hubRoots, now: now)
        }, logger: logger))
    }

    package init(context: RelayContext) {
        self.context = context
        clerkStatuses = ClerkStatusService(context: context)
    }

    /// In start order; the group stops them in reverse, so the connections close last.
    package var services: [any Service] {
        [RelayConnections(context: context), DirectoryRefresher(context: context), PackagingService(context: context),
         UploadService(context: context), InboxService(context: context), clerkStatuses]
    }

    // MARK: The local API's side

    package typealias ClerkStatusRefusal = ClerkStatusService.Refusal
    package static var clerkStatusCodes: [StatusCode] { ClerkStatusService.codes }

    package func recordClerkStatus(hubID: Int64, code: String, description: String?, staff: String?) async throws(ClerkStatusRefusal) -> OutgoingStatusRecord {
        try await clerkStatuses.record(hubID: hubID, code: code, description: description, staff: staff)
    }

    package func status(now: Date? = nil) -> RelayStatus {
        let now = now ?? context.now()
        let link = context.linkState
        let store = context.store
        var lanes: [RelayStatus.Lane] = RelayLane.allCases.map { .init(lane: $0.name, name: $0.vietnameseName, queued: 0, sending: 0) }
        var queuedSince: [Date] = []
        var inboxCount = 0
        if let queue = try? store.relayQueueSummary() {
            for entry in queue {
                guard let index = RelayLane.allCases.firstIndex(of: entry.lane) else { continue }
                if entry.sending { lanes[index].sending += 1 } else { lanes[index].queued += 1 }
                queuedSince.append(entry.queuedAt)
            }
        }
        if let count = try? store.inboundCount() { inboxCount = count }
        let warning = settings.ageRule.warning(queuedSince: queuedSince, now: now)
        return RelayStatus(link: link.link, hub: settings.hubURL, linkSince: link.since, lastSuccessAt: link.lastSuccessAt,
                           lastError: link.lastError, lastErrorAt: link.lastErrorAt, lanes: lanes, warning: warning?.message,
                           maximumQueueAgeSeconds: settings.ageRule.maximumAge.components.seconds, inboxReceived: inboxCount,
                           oldestQueuedAt: queuedSince.min(),
                           inboxSetAside: context.inboxBacklog.entries.map {
                               .init(what: $0.key.description, reason: $0.reason, failures: $0.failures, retryAt: $0.retryAt)
                           })
    }
}

/// Holds the hub's connections open while the relay runs, and closes them when it stops: first
/// in the group, so stopped last, after every service that uses them.
struct RelayConnections: Service {
    let context: RelayContext

    func run() async {
        context.logger.notice("relay started", metadata: ["hub": "\(context.settings.hubURL)"])
        try? await gracefulShutdown()
        await context.hub.shutdown()
        context.logger.notice("relay stopped")
    }
}
