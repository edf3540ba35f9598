import Foundation

/// `POST /v1/inbox/redeliver` (docs/protocol.md, "Delivered again"): a box that restored an older
/// backup asks the hub to list again what it acknowledged since `since`. Times as `GatewayJSON`
/// writes and reads them (ISO 8601, any offset accepted).
package struct RelayRedeliveryRequest: Codable, Sendable, Equatable {
    package var since: Date

    package init(since: Date) { self.since = since }
}

/// The hub's answer: how many items wait again, and from when it could look — later than the
/// box asked when that was beyond `limits.keep_delivered_days` (what was delivered before `from`
/// may be missing on the box, and is no longer the hub's to give).
package struct RelayRedeliveryAnswer: Codable, Sendable, Equatable {
    package var requeued: Int
    package var from: Date

    package init(requeued: Int, from: Date) { (self.requeued, self.from) = (requeued, from) }
}
