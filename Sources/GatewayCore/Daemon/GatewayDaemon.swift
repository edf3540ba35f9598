import DurableFiles
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// `gatewayd serve`: takes the data directory's lock, recovers the store, then runs the intake
/// doors (hot folder, local API on the Unix socket and optional TCP) as services of one group,
/// which stops them in reverse order on SIGTERM/SIGINT, letting commits in flight finish.
public enum GatewayDaemon {
    /// `tokens`: the token watcher (a service of its own, and the source of the status's token
    /// list); nil runs the daemon without token support.
    public static func run(configuration: GatewayConfiguration, tokens: (any TokenStatusSource & Service)? = nil, logger: Logger) async throws {
        // Nothing the daemon creates (content, sockets, folders) is for other users.
        umask(0o007)
        // A lease broken while the hot folder probes a file would otherwise kill us (SIGIO), and a
        // client hanging up mid-answer must not (SIGPIPE).
        signal(SIGIO, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        // glibc gives each thread that allocates its own arena (up to 8 per core), each keeping
        // what it freed: with 20 threads that alone costs tens of MB on a 2 GB box. Two suffice.
        let arenaMaximum: Int32 = -8  // M_ARENA_MAX from <malloc.h>
        _ = glibcMallopt(arenaMaximum, 2)

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
        let parser = MetadataParser(defaultRecipients: configuration.intake.defaultRecipients, directory: store)
        var services: [any Service] = []
        var hotFolder: HotFolderIntake?
        if configuration.intake.hotFolderEnabled {
            let intake = HotFolderIntake(
                settings: .init(folder: configuration.hotFolderPath, settleDelay: configuration.intake.settleDelay,
                                diskRetryInterval: configuration.intake.diskRetryInterval, parser: parser),
                store: store, logger: logger)
            hotFolder = intake
            services.append(intake)
        }
        if let tokens { services.append(tokens) }
        var relay: RelayService?
        if configuration.upstream.isConfigured {
            do { relay = try RelayService(configuration: configuration, store: store, ioPool: ioPool, logger: logger) } catch {
                // The box still takes documents in; they wait in the store until the relay is fixed.
                logger.critical("relay not started: \(error.message)", metadata: ["code": "\(error.code)"])
            }
            if let relay { services.append(relay) }
        } else {
            logger.notice("no [upstream] configured: documents stay queued on this box")
        }
        // The full reconcile of rows against files, once READY (after the local API listens).
        let reconciler = StoreReconciler(store: store, logger: logger)
        let api = LocalAPI(store: store, parser: parser, hotFolder: hotFolder, tokens: tokens, relay: relay, logger: logger)

        let socketPath = configuration.socketPath
        try POSIXFile.makeDirectory((socketPath as NSString).deletingLastPathComponent, mode: 0o770)
        // We hold the data directory's lock, so a socket file left here is from a dead daemon.
        unlink(socketPath)
        let socketGroup = configuration.api.socketGroup
        let http1 = HTTPServerBuilder.http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()]))
        services.append(Application(
            router: api.router(),
            server: http1,
            configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "gatewayd"),
            onServerRunning: { _ in
                chmod(socketPath, 0o660)
                if let socketGroup, let group = getgrnam(socketGroup) { chown(socketPath, getuid(), group.pointee.gr_gid) }
                logger.notice("local API listening", metadata: ["socket": "\(socketPath)"])
                reconciler.doorsOpened()
            },
            logger: logger))
        if let tcp = configuration.api.tcpAddress.flatMap(TCPAddress.init) {
            services.append(Application(
                router: api.router(),
                server: http1,
                configuration: .init(address: .hostname(tcp.host, port: tcp.port), serverName: "gatewayd"),
                onServerRunning: { _ in logger.notice("local API listening", metadata: ["tcp": "\(tcp.host):\(tcp.port)"]) },
                logger: logger))
        }
        services.append(reconciler)  // last: the first stopped at shutdown
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        logger.notice("gatewayd started", metadata: ["data_dir": "\(layout.dataDirectory)", "version": "\(GatewayVersion.current)", "pid": "\(getpid())"])
        try await group.run()
        unlink(socketPath)
        try? await ioPool.shutdownGracefully()
        withExtendedLifetime(lock) {}
        logger.notice("gatewayd stopped")
    }
}

/// `mallopt(3)`: glibc's <malloc.h> is not part of Swift's Glibc module.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
