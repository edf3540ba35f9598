import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A bounded stop. Hummingbird's graceful shutdown stops accepting connections and then waits for
/// every request in flight, so one box holding a 60 s long poll, or a slow link in the middle of
/// an upload, held hubd for as long. At graceful shutdown the long polls are answered (with what
/// waits, usually nothing) and bodies still on their way are cut: nothing acknowledged is lost —
/// tus resumes a cut PATCH from the bytes the hub kept, a box sends a cut POST again and fetches
/// a cut inbox package again (it acknowledges only what it fetched whole).
extension HubServer {
    /// What `hubd serve` runs under its service group: the application, stopped as above.
    package func service(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some Service {
        HubService(application: try application(onRunning: onRunning), server: self)
    }

    func beginShutdown() {
        logger.info("hubd stopping: long polls answered, transfers in flight cut")
        signals.closeAll()
        bodiesInFlight.cutAll()
    }
}

struct HubService<App: ApplicationProtocol>: Service, CustomStringConvertible {
    let application: App
    let server: HubServer
    /// ServiceLifecycle logs services by their description: the name, not every stored property.
    var description: String { "hubd" }

    func run() async throws {
        let server = self.server
        try await withGracefulShutdownHandler {
            try await application.run()
        } onGracefulShutdown: {
            server.beginShutdown()
        }
    }
}

/// The connections whose bodies are on their way right now — uploads arriving, packages going
/// down to a box — so that shutdown can close them.
final class BodiesInFlight: Sendable {
    private struct State {
        var channels: [UInt64: any Channel] = [:]
        var next: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())

    /// Runs `transfer` (a loop over a request body, or the writing of a response body) with
    /// `channel` known, so that a shutdown meanwhile closes the connection and ends it with an error.
    func transferring<T>(on channel: any Channel, _ transfer: () async throws -> T) async throws -> T {
        let (id, closed) = state.withLock { state in
            state.next &+= 1
            if !state.closed { state.channels[state.next] = channel }
            return (state.next, state.closed)
        }
        // A body that starts after shutdown began is cut at once.
        if closed { channel.close(promise: nil) }
        defer { _ = state.withLock { $0.channels.removeValue(forKey: id) } }
        return try await transfer()
    }

    func cutAll() {
        let channels = state.withLock { state in
            state.closed = true
            defer { state.channels = [:] }
            return Array(state.channels.values)
        }
        for channel in channels { channel.close(promise: nil) }
    }
}
