import DocumentModel
import Foundation
import Synchronization

/// What the inbox puller set aside (docs/relay.md, "An inbox that never blocks"): incoming items
/// that may be taken later (bytes that do not match their hash, the disk reserve reached) and 01
/// statuses that could not be built or sent. Each is retried on its own backoff while the loop
/// goes on with the next item; none can hold the poll. Kept in memory only: after a restart the
/// hub lists what is still waiting and the store what is still unanswered, and each is tried once
/// more before being set aside again.
package final class InboxBacklog: Sendable {
    package enum Key: Hashable, Sendable, CustomStringConvertible {
        /// An inbox item at the hub, by its id there.
        case item(Int64)
        /// The 01 status of a stored incoming document, by the document's inbox id.
        case status(Int64)
        /// Asking the hub to deliver again what a restored backup lacks (`PendingRedelivery`).
        case redelivery

        package var description: String {
            switch self {
            case .item(let id): "item \(id)"
            case .status(let id): "status 01 for item \(id)"
            case .redelivery: "redelivery request"
            }
        }
    }

    package struct Entry: Sendable {
        package var key: Key
        /// The item as the hub listed it (items only): retried without listing it again.
        package var item: RelayWaitingItem?
        package var reason: String
        package var failures: Int
        package var retryAt: Date
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// The highest inbox id taken or set aside since the start: the long poll asks only for
        /// newer items, so what waits set aside does not make it answer at once, again and again.
        var cursor: Int64 = 0
    }

    private let state = Mutex(State())

    package init() {}

    package var cursor: Int64 { state.withLock { $0.cursor } }

    func passed(_ id: Int64) {
        state.withLock { $0.cursor = max($0.cursor, id) }
    }

    /// The next poll lists the inbox from the start: redelivered items keep their old ids.
    func rewind() {
        state.withLock { $0.cursor = 0 }
    }

    /// Sets `key` aside after `error`: its next try waits the relay's backoff, longer each time.
    @discardableResult
    func setAside(_ key: Key, item: RelayWaitingItem?, after error: RelayError, context: RelayContext) -> Entry {
        state.withLock { state in
            let before = state.entries[key]?.failures ?? 0
            let (failures, delay) = context.backoff(after: error, failuresBefore: before)
            let entry = Entry(key: key, item: item ?? state.entries[key]?.item, reason: error.message, failures: failures,
                              retryAt: context.now().addingTimeInterval(QueueAgeRule.seconds(delay)))
            state.entries[key] = entry
            return entry
        }
    }

    func cleared(_ key: Key) {
        _ = state.withLock { $0.entries.removeValue(forKey: key) }
    }

    /// False while `key` waits out its backoff.
    func isDue(_ key: Key, now: Date) -> Bool {
        state.withLock { $0.entries[key].map { $0.retryAt <= now } ?? true }
    }

    /// Items (not statuses) whose backoff has passed, oldest id first.
    func dueItems(now: Date) -> [RelayWaitingItem] {
        state.withLock { state in
            state.entries.values.filter { $0.retryAt <= now }.compactMap(\.item).sorted { $0.id < $1.id }
        }
    }

    /// Everything set aside, for the status and the metrics.
    package var entries: [Entry] {
        state.withLock { Array($0.entries.values) }.sorted { $0.key.description < $1.key.description }
    }
}

extension RelayError {
    /// The link itself failed (no connection, TLS): the whole loop backs off, no item is to blame.
    var isLinkFailure: Bool { code == .connection || code == .tls }
}
