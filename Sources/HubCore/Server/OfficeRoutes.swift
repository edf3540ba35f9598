import DocumentModel
import Foundation
import Hummingbird

/// The document system's API (docs/protocol.md, "Office API"): what was handed off, documents
/// posted down to the communes, and the state of their deliveries.
extension HubServer {
    func addOfficeRoutes(to router: Router<HubRequestContext>) {
        router.get("/office/v1/received") { request, context in
            _ = try office(context)
            let items = try await longPoll(queue: Self.officeQueue, request: request) { try await store.handoff() }
            return try json(RelayWaitingList(items: items))
        }
        router.get("/office/v1/received/{id}") { _, context in
            _ = try office(context)
            return try await fileResponse(try await store.handoffPackage(id: try context.parameters.require("id", as: Int64.self)), context: context)
        }
        router.post("/office/v1/received/{id}/ack") { _, context in
            _ = try office(context)
            try await store.acknowledgeHandoff(id: try context.parameters.require("id", as: Int64.self), at: Date())
            return Response(status: .noContent)
        }
        router.post("/office/v1/packages") { request, context in
            let stored = try await receiveWhole(request, role: try office(context), channel: context.channel)
            struct Posted: Encodable { let key: String; let sha256: String; let duplicate: Bool; let deliveries: [HubStore.Delivery] }
            return try json(Posted(key: stored.key, sha256: stored.sha256, duplicate: stored.duplicate, deliveries: stored.deliveries),
                            status: stored.duplicate ? .ok : .created)
        }
        router.get("/office/v1/deliveries/{id}") { _, context in
            _ = try office(context)
            return try json(try await store.delivery(id: try context.parameters.require("id", as: Int64.self)))
        }
    }
}
