// `gatewayd serve`'s services: the store recovered, the intake doors, the relay, in one group.
import Dispatch
import DurableFiles
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Signing
import NIOCore
import NIOPosix
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// `gatewayd serve`: takes the data directory's lock, recovers the store, then runs the intake
/// doors (hot folder, local API on the Unix socket and optional TCP) as services of one group,
/// which stops them in reverse order on SIGTERM/SIGINT, letting commits in flight finish for up to
/// `ShutdownDeadline.gracefulLimit`, then cancelling what is left.
package enum GatewayDaemon {
    /// `tokens`: the token watcher (a service of its own, and the source of the status's token
    /// list); nil runs the daemon without token support. `stopOverran`: called when the stop has
    /// taken `ShutdownDeadline.hardLimit` (the executable ends the process there).
    /// `signing`: the tokens the signing stage opens and its view of the world (clock, revocation,
    /// timestamps); nil runs the daemon without a signing stage.
    /// `doors`: more services over the recovered store, the relay (nil without `[upstream]`) and
    /// the signing stage (nil without `signing`),
    /// started after the local API (gatewayd's console, a module of its own so that GatewayCore
    /// does not depend on it).
    package static func run(configuration: GatewayConfiguration, tokens: (any TokenStatusSource & Service)? = nil,
                            signing: (tokens: any SigningTokens, environment: SigningEnvironment)? = nil, logger: Logger,
                            stopOverran: @escaping @Sendable () -> Void = {},
                            doors: (DocumentStore, RelayService?, SigningStage?) throws -> [any Service] = { _, _, _ in [] }) async throws {
        let layout = configuration.layout
        let lock = try StoreLock(layout: layout)
        let ioPool = NIOThreadPool(numberOfThreads: 16)  // blocking file work: fsync, copies
        ioPool.start()

        let store = try DocumentStore(layout: layout, limits: configuration.storeLimits, logger: logger, ioPool: ioPool)
        let recovery = try store.recover()
        logger.notice("store recovered", metadata: [
            "documents": "\(recovery.documentsChecked)", "temporary_removed": "\(recovery.temporaryFilesRemoved.count)",
            "orphans_moved_aside": "\(recovery.orphansMovedAside.count)", "quarantined": "\(recovery.quarantined.count)",
            "resumed": "\(recovery.resumed.count)",
        ])
        for entry in recovery.quarantined {
            logger.error("document quarantined at startup", metadata: ["document.id": "\(entry.id)", "reason": "\(entry.reason)"])
        }

        // Recipients may be named as in the hub's directory (kept in the store by the relay).
        let parser = MetadataParser(defaultRecipients: configuration.intake.defaultRecipients, directory: store,
                                    defaultSignatures: configuration.signing.defaultSignatures)
        // One check of "signed" claims for both doors, against [trust], the leaders and [agency].
        let signedClaims = SignedClaimCheck(configuration: configuration)
        if let shareGroup = try groupID(configuration.shareGroup, key: "share.group") {
            try SharedFolders.prepare(hotFolder: configuration.intake.hotFolderEnabled ? configuration.hotFolderPath : nil,
                                      inboxFolder: configuration.upstream.isConfigured ? configuration.resolvedInboxFolder : nil,
                                      group: shareGroup, logger: logger)
        }
        var services: [any Service] = []
        var hotFolder: HotFolderIntake?
        if configuration.intake.hotFolderEnabled {
            let intake = HotFolderIntake(
                settings: .init(folder: configuration.hotFolderPath, settleDelay: configuration.intake.settleDelay,
                                diskRetryInterval: configuration.intake.diskRetryInterval, parser: parser, signedClaims: signedClaims),
                store: store, logger: logger)
            hotFolder = intake
            services.append(intake)
        }
        if let tokens { services.append(tokens) }
        var relay: RelayService?
        if configuration.upstream.isConfigured {
            // With [enrolment]: the certificate got from the hub (now, if there is none yet),
            // held so that its renewal switches the relay's connections and envelopes over.
            let (enrolled, retry) = await EnrolmentAtStart.prepare(configuration, logger: logger)
            // Not enrolled because the hub could not be reached: tried again in the background.
            if let retry { services.append(retry) }
            do {
                relay = try RelayService(configuration: configuration, store: store, ioPool: ioPool, logger: logger, identity: enrolled?.identity)
                if let renewal = enrolled?.renewal { services.append(renewal) }
            } catch {
                // The box still takes documents in; they wait in the store until the relay is fixed.
                logger.critical("relay not started: \(error.message)", metadata: ["code": "\(error.code)"])
            }
            if let relay { services.append(contentsOf: relay.services) }
        } else {
            logger.notice("no [upstream] configured: documents stay queued on this box")
        }
        // The full reconcile of rows against files, once READY (after the local API listens).
        let reconciler = StoreReconciler(store: store, logger: logger)
        let stage = signing.map { makeSigningStage(configuration, store: store, tokens: $0.tokens, environment: $0.environment, logger: logger) }
        let api = LocalAPI(store: store, parser: parser, hotFolder: hotFolder, tokens: tokens, relay: relay, signing: stage,
                           signedClaims: signedClaims, logger: logger)

        let socketPath = configuration.socketPath
        let socketGroup = try groupID(configuration.api.socketGroup, key: "api.socket_group")
        try prepareSocketDirectory((socketPath as NSString).deletingLastPathComponent, group: socketGroup)
        // We hold the data directory's lock, so a socket file left here is from a dead daemon.
        unlink(socketPath)
        // Bounded (issue 16): idle and half-sent requests are closed, and past the cap new
        // connections wait in the backlog instead of taking descriptors from the store and doors.
        let http1 = HTTPServerBuilder.http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()],
                                                                 idleTimeout: .nanoseconds(Int64(configuration.api.idleTimeout.nanoseconds))))
        let connections = configuration.api.maximumConnections
        services.append(Application(
            router: api.router(tokenRoutes: true),
            server: http1,
            configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "gatewayd",
                                 availableConnectionsDelegate: .maximum(connections, logger: logger)),
            onServerRunning: { _ in
                chmod(socketPath, 0o660)
                if let socketGroup, chown(socketPath, getuid(), socketGroup) != 0 {
                    logger.critical("the local API's socket could not be given its group: \(String(cString: strerror(errno)))",
                                    metadata: ["socket": "\(socketPath)", "gid": "\(socketGroup)"])
                }
                logger.notice("local API listening", metadata: ["socket": "\(socketPath)"])
                reconciler.doorsOpened()
                // READY as bench-ready means it: recovered, intake up, the local API answering.
                // With the queue as STATUS, as the watchdog's pings say it: sent after the
                // watchdog's first ping, a fixed sentence here would hide the queue until the next.
                let queue = (try? store.countsByState()).map(SystemdWatchdog.statusLine) ?? "Sẵn sàng nhận văn bản / ready for documents"
                SystemdNotify.send("READY=1\nSTATUS=" + queue)
            },
            logger: logger))
        // The loopback API, and the read-only metrics listener: each with the same bounds.
        for (address, router, what) in [(configuration.api.tcpAddress, api.router(), "local API"),
                                         (configuration.api.metricsAddress, api.metricsRouter(), "metrics")] {
            guard let tcp = address.flatMap(TCPAddress.init) else { continue }
            services.append(Application(
                router: router,
                server: http1,
                configuration: .init(address: .hostname(tcp.host, port: tcp.port), serverName: "gatewayd",
                                     availableConnectionsDelegate: .maximum(connections, logger: logger)),
                onServerRunning: { _ in logger.notice("\(what) listening", metadata: ["tcp": "\(tcp.host):\(tcp.port)"]) },
                logger: logger))
        }
        services.append(contentsOf: try doors(store, relay, stage))
        if let interval = SystemdWatchdog.interval() {
            services.append(SystemdWatchdog(interval: interval, probe: { SystemdWatchdog.statusLine(try store.countsByState()) }, logger: logger))
        }
        services.append(reconciler)  // near the end: among the first stopped at shutdown
        // Last in the list, so the first told of the shutdown: it bounds the whole stop.
        services.append(ShutdownDeadline(limit: ShutdownDeadline.hardLimit, logger: logger, overran: stopOverran))
        var groupConfiguration = ServiceGroupConfiguration(
            // The enrolment retry ends the daemon gracefully once enrolled (systemd starts it
            // again, with the relay); any other service's failure cancels the group as before.
            services: services.map { .init(service: $0, failureTerminationBehavior: $0 is EnrolmentRetry ? .gracefullyShutdownGroup : .cancelGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // What is in flight may not end by itself (an upload half sent by a client that went
        // quiet, a long poll at the hub, an upload to a slow hub): past this the group cancels
        // the services, which drops those requests (the store keeps only what was committed).
        groupConfiguration.maximumGracefulShutdownDuration = ShutdownDeadline.gracefulLimit
        let group = ServiceGroup(configuration: groupConfiguration)
        logger.notice("gatewayd started", metadata: ["data_dir": "\(layout.dataDirectory)", "version": "\(GatewayVersion.current)", "pid": "\(getpid())"])
        // Enrolled in the background: the same stop, then the caller restarts (exit 75).
        var enrolled: EnrolmentRetry.Enrolled?
        do { try await group.run() } catch let error as EnrolmentRetry.Enrolled { enrolled = error }
        unlink(socketPath)
        try? await ioPool.shutdownGracefully()
        withExtendedLifetime(lock) {}
        logger.notice("gatewayd stopped\(enrolled.map { ": \($0)" } ?? "")")
        if let enrolled { throw enrolled }
    }
}

extension GatewayDaemon {
    /// A configured group (`[api] socket_group`, `[share] group`) as its id; a group the box
    /// does not have stops the start with the reason, rather than leaving the commune's software
    /// or its clerks without what they were promised.
    static func groupID(_ name: String?, key: String) throws -> gid_t? {
        guard let name else { return nil }
        guard let group = getgrnam(name) else {
            let parts = key.split(separator: ".")
            throw ConfigurationErrors(path: "[\(parts[0])] \(parts[parts.count - 1])", issues: [ConfigurationIssue(
                key: key, line: nil, message: "\"\(name)\" is not a group on this box", hint: "groupadd \(name), or leave \(parts[parts.count - 1]) out")])
        }
        return group.pointee.gr_gid
    }

    /// The socket's directory: its owner's, and with `socket_group` that group's to pass through
    /// (mode 0710) and nothing more: its members reach the socket but cannot list or replace what
    /// is there. Set at every start, so a directory made by an older version is brought in line.
    static func prepareSocketDirectory(_ path: String, group: gid_t?) throws {
        try POSIXFile.makeDirectory(path, mode: 0o710)
        if let group, chown(path, getuid(), group) != 0 {
            throw SystemCallError(call: "chown", path: path, errno: errno)
        }
        guard chmod(path, 0o710) == 0 else { throw SystemCallError(call: "chmod", path: path, errno: errno) }
    }

    /// The signing stage with its settings read (what cannot be read is logged: the box still
    /// takes documents in), and, when the commune's agency code is known, the queueing of sealed
    /// documents under the organization's token.
    static func makeSigningStage(_ configuration: GatewayConfiguration, store: DocumentStore, tokens: any SigningTokens,
                                 environment: SigningEnvironment, logger: Logger) -> SigningStage {
        let (settings, problems) = SigningSettings.load(configuration)
        for problem in problems { logger.error("signing settings: \(problem)") }
        var afterSeal: (@Sendable (DocumentRecord, any Signer) async throws -> Void)?
        if let code = configuration.agency.code {
            let packager = OutboundPackager(agencyCode: code, agencyName: configuration.agency.name)
            afterSeal = { document, signer in
                _ = try await packager.queue(document.id, signer: signer, store: store, now: environment.now(), logger: logger)
            }
        } else {
            logger.warning("no [agency] code: sealed documents stay signed, not queued for the hub")
        }
        return SigningStage(store: store, tokens: tokens, settings: settings, environment: environment, logger: logger, afterSeal: afterSeal)
    }
}

/// A bounded stop (gatewayd exits within 5 s of SIGTERM whatever is in flight): the group
/// cancels its services after `gracefulLimit`; should one of them ignore the cancellation,
/// `overran` is called at `hardLimit`, and gatewayd ends the process there. Ending there loses
/// nothing: every commit is durable before it is acknowledged, and start-up recovers the rest,
/// as after a crash.
package struct ShutdownDeadline: Service {
    package static let gracefulLimit: Duration = .seconds(3)
    package static let hardLimit: Duration = .milliseconds(4500)

    let limit: Duration
    let logger: Logger
    let overran: @Sendable () -> Void

    package func run() async throws {
        // Returns when the group starts to stop (throws when it is cancelled instead): either
        // way the clock starts now.
        try? await gracefulShutdown()
        let logger = logger, overran = overran
        let nanoseconds = limit.components.seconds * 1_000_000_000 + limit.components.attoseconds / 1_000_000_000
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) {
            logger.critical("services did not stop in time", metadata: ["limit": "\(limit)"])
            overran()
        }
    }
}
