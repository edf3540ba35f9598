import DocumentModel
import DurableFiles
import Foundation
import TimeJSON

/// A redelivery asked by hand (`gatewayd inbox redeliver --since`), left for the daemon's inbox
/// puller as a file: the puller is the one that must list the inbox from the start afterwards.
package struct RedeliveryRequestFile: Codable, Sendable, Equatable {
    package static let fileName = "redeliver.json"

    package var since: Date

    package init(since: Date) { self.since = since }

    package static func path(in dataDirectory: String) -> String { dataDirectory + "/" + fileName }

    package func write(inDataDirectory dataDirectory: String) throws {
        try POSIXFile.replaceWhole(Self.path(in: dataDirectory), with: Array(try GatewayJSON.encoder.encode(self)), mode: 0o640)
    }
}

/// The redeliveries this box still has to ask the hub for: after a restore (`restored-from.json`,
/// which `gatewayd restore` writes) and by hand (`redeliver.json`).
package struct PendingRedelivery: Sendable, Equatable {
    /// Asked from this long before the backup began: the hub's times are its own clock, and an
    /// item acknowledged just before the copy began may not be in it. Asking too far back costs
    /// only downloads: an item the box holds is recognised by its hub id and not stored twice.
    package static let margin: TimeInterval = 3600

    package var path: String
    package var since: Date
    /// For the log: "restore of FILE" or "asked by hand".
    package var reason: String

    /// What waits in `dataDirectory`; a file that cannot be read is reported once per call
    /// through `unreadable` and left in place for the operator.
    package static func find(in dataDirectory: String, unreadable: (String, any Error) -> Void = { _, _ in }) -> [PendingRedelivery] {
        var found: [PendingRedelivery] = []
        // `gatewayd restore` leaves it (`RestoredFromMarker`, docs/backup.md): the store holds
        // nothing acknowledged after the backup began.
        let restored = dataDirectory + "/" + BackupFormat.restoredMarkerName
        if let data = FileManager.default.contents(atPath: restored) {
            do {
                let marker = try BackupFormat.decoder().decode(RestoredFromMarker.self, from: data)
                found.append(PendingRedelivery(path: restored, since: marker.backupStartedAt.addingTimeInterval(-margin),
                                               reason: "restore of \(marker.backupFile) begun \(GatewayJSON.format(marker.backupStartedAt))"))
            } catch { unreadable(restored, error) }
        }
        let asked = RedeliveryRequestFile.path(in: dataDirectory)
        if let data = FileManager.default.contents(atPath: asked) {
            do {
                found.append(PendingRedelivery(path: asked, since: try GatewayJSON.decoder.decode(RedeliveryRequestFile.self, from: data).since,
                                               reason: "asked by hand"))
            } catch { unreadable(asked, error) }
        }
        return found
    }

    /// The hub agreed: the file goes, durably (a marker seen again after a crash would only ask again).
    func done() throws {
        POSIXFile.unlinkIfPresent(path)
        try POSIXFile.fsyncDirectory((path as NSString).deletingLastPathComponent)
    }
}
