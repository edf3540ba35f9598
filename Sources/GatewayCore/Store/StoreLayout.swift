/// Where the store keeps things under the data directory. One place names every path so the
/// recovery code, the check and the documentation cannot drift apart.
///
///     <data-dir>/gateway.sqlite        metadata, states, audit trail (WAL)
///     <data-dir>/store/tmp/            content being written; anything here at startup is garbage
///     <data-dir>/store/objects/<id>    content of committed documents, named by document id
///     <data-dir>/store/objects/<id>.v<N>   version N of a document's content (N ≥ 1: one per signature)
///     <data-dir>/store/objects/<id>.a<P>   attachment P (1, 2 …: its place in the metadata's list) as received
///     <data-dir>/store/objects/<id>.a<P>.v<N>   version N of a PDF attachment (the organization's signature)
///     <data-dir>/store/objects/<id>.a<P>.p7s    the detached CAdES signature of a non-PDF attachment
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

    /// Version `version` of attachment `position` (1-based) of a document.
    package func attachmentPath(_ id: DocumentID, position: Int, version: Int) -> String {
        objectsDirectory + "/" + Self.attachmentName(id, position: position, version: version)
    }

    package static func attachmentName(_ id: DocumentID, position: Int, version: Int) -> String {
        id.description + ".a" + String(position) + (version == 0 ? "" : ".v" + String(version))
    }

    /// The detached signature (`.p7s`) of a non-PDF attachment.
    package func attachmentSignaturePath(_ id: DocumentID, position: Int) -> String {
        objectsDirectory + "/" + Self.attachmentSignatureName(id, position: position)
    }

    package static func attachmentSignatureName(_ id: DocumentID, position: Int) -> String {
        id.description + ".a" + String(position) + ".p7s"
    }

    /// What a name in `objects/` stands for: a document's content, an attachment's, or an
    /// attachment's detached signature, each at a version.
    package struct ObjectName: Sendable, Equatable {
        package var id: DocumentID
        /// nil: the main document; else the attachment's position.
        package var attachment: Int?
        package var version: Int
        /// The `.p7s` of attachment `attachment` (version 0).
        package var isDetachedSignature = false
    }

    /// The object a name in `objects/` stands for, or nil for a stranger. Only the canonical
    /// spelling is recognised (`a01`, `v0` are strangers), so one object has one name.
    package static func parseObjectName(_ name: String) -> ObjectName? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard let id = DocumentID(String(parts[0])) else { return nil }
        func number(_ part: Substring, _ prefix: Character) -> Int? {
            guard part.first == prefix, let value = Int(part.dropFirst()), value >= 1 else { return nil }
            return value
        }
        var object = ObjectName(id: id, attachment: nil, version: 0)
        var rest = parts.dropFirst()
        if let first = rest.first, let position = number(first, "a") {
            object.attachment = position
            rest = rest.dropFirst()
            if rest.first == "p7s" {
                object.isDetachedSignature = true
                rest = rest.dropFirst()
            }
        }
        if !object.isDetachedSignature, let first = rest.first {
            guard let version = number(first, "v") else { return nil }
            object.version = version
            rest = rest.dropFirst()
        }
        guard rest.isEmpty else { return nil }
        let canonical = switch (object.attachment, object.isDetachedSignature) {
        case (nil, _): objectName(id, version: object.version)
        case (let position?, true): attachmentSignatureName(id, position: position)
        case (let position?, false): attachmentName(id, position: position, version: object.version)
        }
        return canonical == name ? object : nil
    }

    package func packagePath(_ id: DocumentID) -> String { packagesDirectory + "/" + id.description + ".edxml" }
    package func inboxPath(hubID: Int64) -> String { inboxDirectory + "/" + String(hubID) + ".edxml" }
    /// The 01 "đã đến" status package the box sends for an incoming item.
    package func arrivalStatusPath(hubID: Int64) -> String { inboxDirectory + "/" + String(hubID) + ".status-01.edxml" }
    func temporaryPath(_ id: DocumentID) -> String { temporaryDirectory + "/" + id.description + ".part" }
}
