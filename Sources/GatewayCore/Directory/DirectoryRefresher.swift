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
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                let delay: Duration
                do throws(RelayError) {
                    try await refresh()
                    failures = 0
                    delay = Self.interval
                } catch {
                    // The long wait only once a copy is stored; the first one is worth retrying.
                    let stored = ((try? context.store.directoryEntries()) ?? []).isEmpty == false
                    let (count, backoff) = context.backoff(after: error, failuresBefore: failures)
                    failures = count
                    delay = stored ? Self.interval : backoff
                }
                try? await Task.sleep(for: delay)
            }
        }
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
