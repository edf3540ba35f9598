import DocumentModel
import Foundation
import Hummingbird

/// The boxes' inboxes (docs/protocol.md, "Documents down"): a long poll for what waits, the
/// package itself, and the acknowledgement that makes it delivered.
extension HubServer {
    func addInboxRoutes(to router: Router<HubRequestContext>) {
        router.get("/v1/inbox") { request, context in
            let commune = try box(context).code
            let items = try await longPoll(queue: commune, request: request) { try await store.inbox(commune: commune) }
            return try json(RelayWaitingList(items: items))
        }
        router.get("/v1/inbox/{id}") { _, context in
            let package = try await store.inboxPackage(commune: try box(context).code, id: try context.parameters.require("id", as: Int64.self))
            return try await fileResponse(package, context: context)
        }
        router.post("/v1/inbox/{id}/ack") { _, context in
            let commune = try box(context).code
            let id = try context.parameters.require("id", as: Int64.self)
            try await store.acknowledgeInbox(commune: commune, id: id, at: Date())
            logger.info("inbox item acknowledged", metadata: ["commune": "\(commune)", "inbox.id": "\(id)"])
            return Response(status: .noContent)
        }
    }

    /// What waits in `queue`, answered at once when something does, else when something arrives
    /// or after `?wait=` seconds, whichever comes first.
    func longPoll(queue: String, request: Request, list: () async throws -> [RelayWaitingItem]) async throws -> [RelayWaitingItem] {
        var wait = 0
        if let text = request.uri.queryParameters.get("wait") {
            guard let value = Int(text), (0...configuration.maxWaitSeconds).contains(value) else {
                throw HubError(.badRequest, "wait phải từ 0 đến \(configuration.maxWaitSeconds)", "wait must be 0–\(configuration.maxWaitSeconds)")
            }
            wait = value
        }
        let deadline = ContinuousClock.now + .seconds(wait)
        let signal = signals.signal(queue)
        var announced = false
        while true {
            // Read the generation before the list: anything queued after the list was read
            // has moved it, so the wait below cannot miss it.
            let seen = signal.generation
            let items = try await list()
            // Closed: hubd is stopping; what is there (often nothing) is the answer, now.
            if !items.isEmpty || ContinuousClock.now >= deadline || signal.isClosed { return items }
            if !announced {
                // Tests wait for this line (not for a time) before they queue what should wake it.
                logger.debug("long poll waiting", metadata: ["queue": "\(queue)", "wait": "\(wait)"])
                announced = true
            }
            await signal.wait(after: seen, until: deadline)
        }
    }
}
