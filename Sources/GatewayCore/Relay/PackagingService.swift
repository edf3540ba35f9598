import DocumentModel
import EdXML
import Foundation
import ServiceLifecycle
import Signing

/// Queueing for the hub (signed → queued) of documents that arrived signed: builds each one's
/// edXML package, XML-signed with the box's key, writes it next to the store and queues it in its
/// lane. Sleeps on the store's change signal.
///
/// Documents signed on the box are not this loop's: the seal session queues them itself, with
/// the organization's token as the envelope's signer (`OutboundPackager.queue`, from
/// `SigningStage`'s `afterSeal`). Were the loop to take
/// every `signed` document, it could win the race against the session that just sealed one and
/// send it under the box's key instead of the organization's.
package struct PackagingService: Service {
    let context: RelayContext
    let packager: OutboundPackager

    package init(context: RelayContext) {
        self.context = context
        packager = OutboundPackager(agencyCode: context.settings.agencyCode, agencyName: context.settings.agencyName)
    }

    package func run() async {
        await cancelWhenGracefulShutdown {
            let store = context.store
            while !Task.isCancelled {
                let seen = store.changes.generation
                await queueArrivedSigned()
                await store.changes.wait(after: seen, until: nil)
            }
        }
    }

    /// One pass over the `signed` documents: those that arrived signed (`metadata.signed`: no
    /// person signs them on this box) are queued under the box's key.
    package func queueArrivedSigned() async {
        do {
            for document in try context.store.list(states: [.signed], limit: 50).reversed()
            where document.metadata.signed && !Task.isCancelled {
                await queue(document.id, signer: context.boxSigner)
            }
        } catch {
            context.logger.error("relay could not read the store", metadata: ["error": "\(error)"])
        }
    }

    /// `signed → queued` for one document, its envelope XML-signed by `signer` (the box's key in
    /// the loop; tests give another). A failure of the disk or the
    /// database is logged and leaves the document `signed` (nil); a document that cannot make a
    /// package is rejected with the reason.
    @discardableResult
    package func queue(_ id: DocumentID, signer: any Signer) async -> OutboundPackager.QueueOutcome? {
        do {
            return try await packager.queue(id, signer: signer, store: context.store, now: context.now(), logger: context.logger)
        } catch {
            // Tried again at the next wake-up (documents that arrived signed) or the next session.
            context.logger.error("could not queue a document", metadata: ["document.id": "\(id)", "error": "\(error)"])
            return nil
        }
    }
}
