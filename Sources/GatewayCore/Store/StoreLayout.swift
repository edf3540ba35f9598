/// Where the store keeps things under the data directory. One place names every path so the
/// recovery code, the check and the documentation cannot drift apart.
///
///     <data-dir>/gateway.sqlite        metadata, states, audit trail (WAL)
///     <data-dir>/store/tmp/            content being written; anything here at startup is garbage
///     <data-dir>/store/objects/<id>    content of committed documents, named by document id
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

    package func objectPath(_ id: DocumentID) -> String { objectsDirectory + "/" + id.description }
    package func packagePath(_ id: DocumentID) -> String { packagesDirectory + "/" + id.description + ".edxml" }
    package func inboxPath(hubID: Int64) -> String { inboxDirectory + "/" + String(hubID) + ".edxml" }
    /// The 01 "đã đến" status package the box sends for an incoming item.
    package func arrivalStatusPath(hubID: Int64) -> String { inboxDirectory + "/" + String(hubID) + ".status-01.edxml" }
    func temporaryPath(_ id: DocumentID) -> String { temporaryDirectory + "/" + id.description + ".part" }
}
