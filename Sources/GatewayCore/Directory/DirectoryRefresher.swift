import DocumentModel
import Foundation
import ServiceLifecycle

/// Keeps the store's copy of the hub's agency directory (`AgencyDirectory`) fresh: fetched when
/// the relay starts and then twice a day (it changes when communes merge or are renamed — rarely,
/// but then it matters). Until the first fetch succeeds it is tried again with the relay's
/// backoff, so a box started while the hub was away learns the names as soon as it returns; a
/// later failure waits for the next turn, with the stored copy still in use.
package struct DirectoryRefresher: Service {
    static let interval: Duration = .seconds(12 * 3600)

    let context: RelayContext

    package init(context: RelayContext) { self.context = context }

    package func run() async {
        let context = context
        await context.repeatWithBackoff({ () async throws(RelayError) -> Duration in
            try await refresh()
            return Self.interval
        }, failed: { _, backoff in
            // The long wait only once a copy is stored; the first one is worth retrying.
            ((try? context.store.directoryEntries()) ?? []).isEmpty ? backoff : Self.interval
        })
    }

    package func refresh() async throws(RelayError) {
        do throws(RelayError) {
            let entries = try await context.hub.fetchDirectory()
            do { try context.store.replaceDirectory(entries, fetchedAt: context.now()) } catch { throw RelayError.store(error) }
            context.logger.info("agency directory fetched", metadata: ["agencies": "\(entries.count)"])
        } catch {
            context.logger.warning("could not fetch the agency directory", metadata: ["error": "\(error)"])
            throw error
        }
    }
}
