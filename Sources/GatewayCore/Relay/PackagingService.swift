import DocumentModel
import EdXML
import Foundation
import ServiceLifecycle

/// Queueing for the hub (signed → queued): builds each signed document's edXML package, writes it
/// next to the store and queues it in its lane. Sleeps on the store's change signal.
package struct PackagingService: Service {
    let context: RelayContext

    package init(context: RelayContext) { self.context = context }

    package func run() async {
        await cancelWhenGracefulShutdown {
            let store = context.store
            let packager = OutboundPackager(agencyCode: context.settings.agencyCode, agencyName: context.settings.agencyName)
            while !Task.isCancelled {
                let seen = store.changes.generation
                do {
                    for document in try store.list(states: [.signed], limit: 50).reversed() where !Task.isCancelled {
                        await queue(document, packager: packager)
                    }
                } catch {
                    context.logger.error("relay could not read the store", metadata: ["error": "\(error)"])
                }
                await store.changes.wait(after: seen, until: nil)
            }
        }
    }

    package func queue(_ document: DocumentRecord, packager: OutboundPackager) async {
        let store = context.store, logger = context.logger
        let now = context.now()
        do {
            let package: DocumentPackage
            do { package = try packager.package(for: document, now: now) } catch {
                try store.transition(document.id, to: .rejected, cause: "edXML package could not be built", reason: error.message)
                logger.warning("document rejected: no edXML package", metadata: ["document.id": "\(document.id)", "reason": "\(error.message)"])
                return
            }
            let (sha256, size) = try await packager.write(package, document: document, layout: store.layout)
            try store.queueForRelay(OutboundRecord(
                documentId: document.id, packageKey: package.header.documentId ?? "", packageSHA256: sha256, packageSize: size,
                lane: RelayLane(document.metadata.priority), queuedAt: now, uploadPath: nil, attempts: 0, nextAttemptAt: nil,
                lastError: nil, receipt: nil, deliveredAt: nil))
            logger.info("document queued for the hub", metadata: ["document.id": "\(document.id)", "package.bytes": "\(size)"])
        } catch {
            // A disk or database failure: the document stays signed and is tried at the next wake-up.
            logger.error("could not queue a document", metadata: ["document.id": "\(document.id)", "error": "\(error)"])
        }
    }
}
