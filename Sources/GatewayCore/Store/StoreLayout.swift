/// Where the store keeps things under the data directory. One place names every path so the
/// recovery code, the check and the documentation cannot drift apart.
///
///     <data-dir>/gateway.sqlite        metadata, states, audit trail (WAL)
///     <data-dir>/store/tmp/            content being written; anything here at startup is garbage
///     <data-dir>/store/objects/<id>    content of committed documents, named by document id
///     <data-dir>/store/orphans/        content found without a row: set aside, never deleted
///     <data-dir>/gatewayd.lock         held by the process that owns the store
public struct StoreLayout: Sendable {
    public let dataDirectory: String

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory.hasSuffix("/") && dataDirectory.count > 1
            ? String(dataDirectory.dropLast()) : dataDirectory
    }

    public var databasePath: String { dataDirectory + "/gateway.sqlite" }
    public var temporaryDirectory: String { dataDirectory + "/store/tmp" }
    public var objectsDirectory: String { dataDirectory + "/store/objects" }
    public var orphansDirectory: String { dataDirectory + "/store/orphans" }
    public var lockPath: String { dataDirectory + "/gatewayd.lock" }

    public func objectPath(_ id: DocumentID) -> String { objectsDirectory + "/" + id.description }
    func temporaryPath(_ id: DocumentID) -> String { temporaryDirectory + "/" + id.description + ".part" }
}
