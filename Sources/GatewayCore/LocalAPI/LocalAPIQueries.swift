// The local API's read answers computed from the store: served by the daemon, and read by the
// command line directly when the daemon is stopped, so both give the same answer in API types.
import Foundation
import Logging
import NIOPosix

package struct LocalAPIQueries: Sendable {
    let store: DocumentStore

    package init(store: DocumentStore) {
        self.store = store
    }

    /// The store opened directly, for when the daemon is stopped: the data directory's lock is
    /// held for the duration of `body`, so no daemon starts on it meanwhile.
    package static func withStoppedDaemon<T>(_ configuration: GatewayConfiguration, logger: Logger, _ body: (LocalAPIQueries) throws -> T) throws -> T {
        let lock = try StoreLock(layout: configuration.layout)
        defer { withExtendedLifetime(lock) {} }
        let store = try DocumentStore(layout: configuration.layout, limits: configuration.storeLimits, logger: logger, ioPool: .singleton)
        return try body(LocalAPIQueries(store: store))
    }

    package func documents(states: [DocumentState] = [], limit: Int = 100, before: DocumentID? = nil) throws -> [DocumentRecord] {
        try store.list(states: states, limit: limit, before: before)
    }

    /// One document with its history and what its recipients said; nil when there is none.
    package func document(_ id: DocumentID) throws -> DocumentView? {
        guard let document = try store.document(id) else { return nil }
        let attachments = try store.attachments(id)
        return DocumentView(document: document, history: try store.history(id), statuses: try store.recipientStatuses(id),
                            signatures: try store.signatures(id), attachments: attachments.isEmpty ? nil : attachments)
    }

    package func inbox(limit: Int = 100, inboxFolder: String) throws -> InboxList {
        InboxList(inboxFolder: inboxFolder, items: try store.inboundList(limit: limit).map(InboxList.Entry.init))
    }

    /// One incoming item by the hub's number, with its verdict (`GET /v1/inbox/{id}`, `gatewayd show N`).
    package func inboxItem(hubID: Int64) throws -> InboxList.Entry? {
        try store.inbound(hubID: hubID).map(InboxList.Entry.init)
    }

    package func directory() throws -> DirectoryList {
        DirectoryList(fetchedAt: try store.directoryFetchedAt(), agencies: try store.directoryEntries())
    }

    /// The consistency check; `ownsStore` false inside the running daemon (docs: `gatewayd store check`).
    package func check(ownsStore: Bool) throws -> StoreCheckReport {
        try store.check(ownsStore: ownsStore)
    }
}
