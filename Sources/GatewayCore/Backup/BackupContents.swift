import Foundation
import GRDB

/// Which files a backup holds besides the database, and under which entry names.
enum BackupContents {
    /// The files the snapshot's rows name: every version of every document and attachment,
    /// detached signatures, the outbound edXML packages, the inbound packages and the status
    /// packages written for them. Read from the snapshot copy, never the live store.
    static func referencedFiles(snapshot path: String, layout: StoreLayout) throws -> (files: [String], documents: Int) {
        var configuration = Configuration()
        configuration.readonly = true
        let database = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? database.close() }
        return try database.read { db in
            var files: [String] = []
            var documents = 0
            for row in try Row.fetchAll(db, sql: "SELECT id, version FROM document ORDER BY id") {
                guard let id = DocumentID(row["id"] as String) else { continue }
                documents += 1
                for version in 0...max(0, row["version"] as Int) { files.append(layout.objectPath(id, version: version)) }
            }
            for row in try Row.fetchAll(db, sql: "SELECT document_id, position, version, signature_file FROM attachment ORDER BY document_id, position") {
                guard let id = DocumentID(row["document_id"] as String) else { continue }
                let position: Int = row["position"]
                for version in 0...max(0, row["version"] as Int) {
                    files.append(layout.attachmentPath(id, position: position, version: version))
                }
                if let signature: String = row["signature_file"], isPlainName(signature) { files.append(layout.objectsDirectory + "/" + signature) }
            }
            for row in try Row.fetchAll(db, sql: "SELECT document_id FROM relay_outbound ORDER BY document_id") {
                if let id = DocumentID(row["document_id"] as String) { files.append(layout.packagePath(id)) }
            }
            for row in try Row.fetchAll(db, sql: "SELECT hub_id FROM relay_inbound ORDER BY hub_id") {
                let hubID: Int64 = row["hub_id"]
                files.append(layout.inboxPath(hubID: hubID))
                // Written only for documents and only once the box made it: present or not, both are right.
                if FileManager.default.fileExists(atPath: layout.arrivalStatusPath(hubID: hubID)) {
                    files.append(layout.arrivalStatusPath(hubID: hubID))
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT package_file FROM outgoing_status ORDER BY seq") {
                let name: String = row["package_file"]
                if isPlainName(name) { files.append(layout.inboxDirectory + "/" + name) }
            }
            return (files, documents)
        }
    }

    /// The configuration file and the public files it and the box rely on (certificates, trust
    /// anchors, the seal and leaders' signature images). Never a private key (BackupKeys).
    static func extraFiles(configuration: GatewayConfiguration, configurationFile: String?) -> [String] {
        var paths: [String] = []
        if let configurationFile { paths.append(configurationFile) }
        paths += [configuration.resolvedUpstream.certificateFile, configuration.upstream.caFile, configuration.signing.sealImage].compactMap { $0 }
        paths += configuration.trust.anchors
        let data = configuration.layout.dataDirectory
        paths += [data + "/console/ca.pem", data + "/console/server.pem"].filter { FileManager.default.fileExists(atPath: $0) }
        let images = AppearanceImages.directory(dataDirectory: data)
        if let names = try? FileManager.default.contentsOfDirectory(atPath: images) {
            paths += names.sorted().filter { !$0.hasSuffix(".tmp") }.map { images + "/" + $0 }
        }
        let keys = Set(BackupKeys.files(configuration: configuration))
        var seen = Set<String>()
        return paths.map { absolute($0) }.filter { !keys.contains($0) && seen.insert($0).inserted }
    }

    /// `data/<relative>` for a file under the data directory, `outside/<absolute>` for the rest.
    static func entryName(for path: String, dataDirectory: String) -> String {
        let (path, dataDirectory) = (absolute(path), absolute(dataDirectory))
        if path.hasPrefix(dataDirectory + "/") { return BackupFormat.dataPrefix + String(path.dropFirst(dataDirectory.count + 1)) }
        return BackupFormat.outsidePrefix + String(path.drop(while: { $0 == "/" }))
    }

    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    private static func isPlainName(_ name: String) -> Bool { !name.isEmpty && !name.contains("/") && name != "." && name != ".." }
}
