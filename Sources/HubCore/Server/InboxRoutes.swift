import DocumentModel
import DurableFiles
import EdXML
import Foundation
import HTTPTypes
import Hummingbird
import TimeJSON

/// The boxes' inboxes (docs/protocol.md, "Documents down"): a long poll for what waits, the
/// package itself, and the acknowledgement that makes it delivered.
extension HubServer {
    func addInboxRoutes(to router: Router<HubRequestContext>) {
        router.get("/v1/inbox") { request, context in
            let commune = try box(context).code
            var after: Int64 = 0
            if let text = request.uri.queryParameters.get("after") {
                guard let value = Int64(text), value >= 0 else { throw HubError(.badRequest, "after phải là số ≥ 0", "after must be a number ≥ 0") }
                after = value
            }
            let items = try await longPoll(queue: commune, request: request) { try await store.inbox(commune: commune, after: after) }
            var response = try json(RelayWaitingList(items: items))
            // The limit both ends apply: the box refuses above it what the hub would not take.
            response.headers[Self.maxPackageBytesHeader] = String(configuration.maxPackageBytes)
            return response
        }
        router.post("/v1/inbox/{id}/refuse") { request, context in
            let commune = try box(context).code
            let id = try context.parameters.require("id", as: Int64.self)
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard var refusal = try? JSONDecoder().decode(RelayInboxRefusal.self, from: Data(buffer: body)),
                  Self.refusalCodes.contains(refusal.code) else {
                throw HubError(.badRequest, "Thân yêu cầu không phải lý do từ chối (JSON, code: \(Self.refusalCodes.sorted().joined(separator: ", ")))",
                               "The body is not a refusal (JSON, code: \(Self.refusalCodes.sorted().joined(separator: ", ")))")
            }
            // The reason goes into a status's Description (at most 20,000 characters) and the log.
            refusal.message_vi = String(refusal.message_vi.prefix(2000))
            refusal.message_en = String(refusal.message_en.prefix(2000))
            if let refused = try await store.refuseInbox(commune: commune, id: id, reason: refusal.message, at: Date()) {
                logger.notice("inbox item refused by its box", metadata: [
                    "commune": "\(commune)", "inbox.id": "\(id)", "package.key": "\(refused.key)", "from": "\(refused.from)", "reason": "\(refusal.code)"])
                try await passRefusalBack(commune: commune, document: refused, refusal: refusal)
            }
            return Response(status: .noContent)
        }
        router.post("/v1/inbox/redeliver") { request, context in
            let commune = try box(context).code
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let asked = try? GatewayJSON.decoder.decode(RelayRedeliveryRequest.self, from: Data(buffer: body)) else {
                throw HubError(.badRequest, "Thân yêu cầu không phải yêu cầu chuyển lại (JSON, since: thời điểm ISO 8601)",
                               "The body is not a redelivery request (JSON, since: an ISO 8601 time)")
            }
            // Only as far back as the hub promises to keep delivered packages.
            let now = Date()
            let from = max(asked.since, now.addingTimeInterval(-Double(configuration.keepDeliveredDays) * 86400))
            let requeued = try await store.redeliver(commune: commune, since: from, at: now)
            logger.notice("inbox items requeued for redelivery", metadata: [
                "commune": "\(commune)", "since": "\(HubTime.wire(asked.since))", "from": "\(HubTime.wire(from))", "items": "\(requeued)"])
            // A long poll of this box waiting now lists them (it asks from the start again).
            signals.notify(commune)
            var data = try GatewayJSON.encoder.encode(RelayRedeliveryAnswer(requeued: requeued, from: from))
            data.append(0x0A)
            return Response(status: .ok, headers: [.contentType: RelayWire.errorContentType], body: .init(byteBuffer: ByteBuffer(bytes: data)))
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

    static let maxPackageBytesHeader = HTTPField.Name(RelayWire.Header.maxPackageBytes)!
    /// Why a box may refuse an item for good; anything else it may retry is no refusal.
    static let refusalCodes: Set<String> = Set([RelayErrorCode.tooLarge, .unreadablePackage, .invalidFields].map(\.rawValue))

    /// A document a box refused goes back to its sender as a status 02 "refused" from that box's
    /// agency, with the box's reason: built here (unsigned: the hub vouches for it with its
    /// receipt, the box never saw the document to sign anything about it) and accepted as if the
    /// commune had sent it, so it is routed like any status (the sender's inbox, or the hand-off).
    /// A refused status goes nowhere: answering a status would only start a loop.
    func passRefusalBack(commune: String, document: (kind: String, key: String, from: String), refusal: RelayInboxRefusal) async throws {
        guard document.kind == PackageSummary.Kind.document.rawValue else { return }
        let name = try? store.directory().first { $0.code == commune }?.name
        let status = StatusPackage(from: Organization(organId: commune, organName: name),
                                   responseFor: ResponseFor(organId: document.from, documentId: document.key),
                                   statusCode: .refused, description: refusal.message, timestamp: EdXMLTimestamp(Date()).description)
        let path = store.newTemporaryPath()
        do {
            try await PackageWriter.write(status, to: path)
        } catch {
            POSIXFile.unlinkIfPresent(path)
            throw error
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
        _ = try await accept(temporaryPath: path, size: size, role: .box(commune))
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
