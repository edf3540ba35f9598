/// Where the store keeps things under the data directory. One place names every path so the
/// recovery code, the check and the documentation cannot drift apart.
///
///     <data-dir>/gateway.sqlite        metadata, states, audit trail (WAL)
///     <data-dir>/store/tmp/            content being written; anything here at startup is garbage
///     <data-dir>/store/objects/<id>    content of committed documents, named by document id
///     <data-dir>/store/objects/<id>.v<N>   version N of a document's content (N ≥ 1: one per signature)
///     <data-dir>/store/orphans/        content found without a row: set aside, never deleted
///     <data-dir>/store/packages/<id>.edxml   the edXML package the relay sends for a document
///     <data-dir>/store/inbox/<hub-id>.edxml  packages the hub brought down for this commune
///     <data-dir>/gatewayd.lock         held by the process that owns the store
package struct StoreLayout: Sendable {
    package let dataDirectory: String

    package init(dataDirectory: String) {
        self.dataDirectory = dataDirectory.hasSuffix("/") && dataDirectory.count > 1
            ? String(dataDirectory.dropLast()) : dataDirectory
    }

    package var databasePath: String { dataDirectory + "/gateway.sqlite" }
    package var temporaryDirectory: String { dataDirectory + "/store/tmp" }
    package var objectsDirectory: String { dataDirectory + "/store/objects" }
    package var orphansDirectory: String { dataDirectory + "/store/orphans" }
    package var packagesDirectory: String { dataDirectory + "/store/packages" }
    package var inboxDirectory: String { dataDirectory + "/store/inbox" }
    package var lockPath: String { dataDirectory + "/gatewayd.lock" }

    /// Version 0 is the content as received; each signature makes the next version beside it.
    package func objectPath(_ id: DocumentID, version: Int) -> String {
        objectsDirectory + "/" + Self.objectName(id, version: version)
    }

    package static func objectName(_ id: DocumentID, version: Int) -> String {
        version == 0 ? id.description : id.description + ".v" + String(version)
    }

    /// The document and version a name in `objects/` stands for, or nil for a stranger.
    package static func parseObjectName(_ name: String) -> (id: DocumentID, version: Int)? {
        let parts = name.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let id = DocumentID(String(parts[0])) else { return nil }
        if parts.count == 1 { return (id, 0) }
        let suffix = parts[1]
        guard suffix.hasPrefix("v"), let version = Int(suffix.dropFirst()), version >= 1,
              objectName(id, version: version) == name else { return nil }
        return (id, version)
    }
    package func packagePath(_ id: DocumentID) -> String { packagesDirectory + "/" + id.description + ".edxml" }
    package func inboxPath(hubID: Int64) -> String { inboxDirectory + "/" + String(hubID) + ".edxml" }
    /// The 01 "đã đến" status package the box sends for an incoming item.
    package func arrivalStatusPath(hubID: Int64) -> String { inboxDirectory + "/" + String(hubID) + ".status-01.edxml" }
    func temporaryPath(_ id: DocumentID) -> String { temporaryDirectory + "/" + id.description + ".part" }
}
