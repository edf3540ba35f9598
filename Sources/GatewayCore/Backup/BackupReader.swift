import DurableFiles
import Foundation

/// A backup checked from its first byte to its last.
package struct VerifiedBackup: Sendable {
    package var description: BackupDescription
    package var entries: [BackupManifestEntry]
    /// The keys, opened with the passphrase (nil: none in the backup, or no passphrase given).
    var keys: [BackupKeys.KeyFile]?
}

/// Reads backup files (BackupFormat): `verify` checks one whole without writing anything;
/// `BackupRestore` extracts one after that.
package enum BackupReader {
    /// Reads the whole file and checks every byte: each entry against the manifest, the manifest
    /// and the archive against the trailer, nothing after the end. With `passphrase`, also opens
    /// the keys (a wrong passphrase is refused here, before anything is written).
    package static func verify(path: String, passphrase: String? = nil) throws(BackupFailure) -> VerifiedBackup {
        var keysEntry: [UInt8]?
        let (description, entries) = try scan(path: path, keys: { keysEntry = $0 }, file: nil)
        var verified = VerifiedBackup(description: description, entries: entries)
        if let passphrase, let keysEntry { verified.keys = try BackupKeys.open(keysEntry, passphrase: passphrase) }
        return verified
    }

    /// One pass over the archive. `file` consumes a `data/` or `outside/` entry's content (and
    /// returns its SHA-256); nil reads and hashes it only. Throws on the first deviation; the
    /// checks that need the whole file (manifest, trailer) come at its end, so a caller that
    /// extracts must treat what it wrote as temporary until this returns.
    static func scan(path: String, keys: ([UInt8]) -> Void,
                     file: ((_ name: String, _ size: Int64, _ reader: TarReader) throws -> String)?) throws(BackupFailure) -> (BackupDescription, [BackupManifestEntry]) {
        do {
            return try scanThrowing(path: path, keys: keys, file: file)
        } catch let failure as BackupFailure {
            throw failure
        } catch let error as SystemCallError {
            throw .io(error.description)
        } catch {
            throw .damaged("\(error)")
        }
    }

    private static func scanThrowing(path: String, keys: ([UInt8]) -> Void,
                                     file: ((String, Int64, TarReader) throws -> String)?) throws -> (BackupDescription, [BackupManifestEntry]) {
        let reader = try TarReader(path: path)
        guard let first = try reader.nextHeader(), first.name == BackupFormat.descriptionName else {
            throw BackupFailure.damaged("the file does not begin with \(BackupFormat.descriptionName): not a gateway backup")
        }
        let (descriptionBytes, descriptionHash) = try reader.smallContent(size: first.size, name: first.name, limit: 1 << 20)
        let description: BackupDescription
        do { description = try BackupFormat.decoder().decode(BackupDescription.self, from: Data(descriptionBytes)) } catch {
            throw BackupFailure.damaged("\(BackupFormat.descriptionName) is not readable")
        }
        guard description.format == BackupFormat.identifier else {
            throw BackupFailure.damaged("format \(description.format), this version reads \(BackupFormat.identifier)")
        }
        var entries = [BackupManifestEntry(name: first.name, size: first.size, sha256: descriptionHash)]
        var names: Set<String> = [first.name]
        while true {
            guard let (name, size) = try reader.nextHeader() else {
                throw BackupFailure.damaged("the archive ends without \(BackupFormat.trailerName)")
            }
            if name == BackupFormat.manifestName {
                let (bytes, manifestHash) = try reader.smallContent(size: size, name: name)
                let manifest = try? BackupFormat.decoder().decode(BackupManifest.self, from: Data(bytes))
                guard let manifest, manifest.entries == entries else {
                    throw BackupFailure.damaged(firstDifference(manifest?.entries ?? [], entries))
                }
                try checkTrailer(reader, manifestSHA256: manifestHash)
                return (description, entries)
            }
            guard isAcceptable(name), names.insert(name).inserted else { throw BackupFailure.damaged("unexpected entry '\(name)'") }
            let sha256: String
            if name == BackupFormat.keysName {
                let (bytes, hash) = try reader.smallContent(size: size, name: name, limit: 1 << 20)
                keys(bytes)
                sha256 = hash
            } else if let file {
                sha256 = try file(name, size, reader)
            } else {
                sha256 = try reader.content(size: size) { _ in }
            }
            entries.append(BackupManifestEntry(name: name, size: size, sha256: sha256))
        }
    }

    private static func checkTrailer(_ reader: TarReader, manifestSHA256: String) throws {
        let archiveSHA256 = reader.archiveSHA256, archiveBytes = reader.offset
        guard let (name, size) = try reader.nextHeader(), name == BackupFormat.trailerName else {
            throw BackupFailure.damaged("\(BackupFormat.manifestName) is not followed by \(BackupFormat.trailerName)")
        }
        let (bytes, _) = try reader.smallContent(size: size, name: name, limit: 1 << 16)
        // Nothing hashes the trailer itself, so it must be exactly what the writer makes of its
        // values: any changed byte (a space, the format's name) is then refused too.
        guard let trailer = try? BackupFormat.decoder().decode(BackupTrailer.self, from: Data(bytes)), trailer.format == BackupFormat.identifier,
              let canonical = try? BackupFormat.encoder().encode(trailer), Array(canonical) == bytes else {
            throw BackupFailure.damaged("\(BackupFormat.trailerName) is not readable")
        }
        guard trailer.manifestSHA256 == manifestSHA256 else { throw BackupFailure.damaged("the manifest's SHA-256 differs from the trailer's") }
        guard trailer.archiveSHA256 == archiveSHA256, trailer.archiveBytes == archiveBytes else {
            throw BackupFailure.damaged("the archive's SHA-256 differs from the one in its trailer")
        }
        guard try reader.nextHeader() == nil else { throw BackupFailure.damaged("an entry follows \(BackupFormat.trailerName)") }
        try reader.expectEnd()
    }

    /// `data/…` and `outside/…` with plain components (no `..`, `.`, empty), or `keys.enc`.
    static func isAcceptable(_ name: String) -> Bool {
        if name == BackupFormat.keysName { return true }
        guard name.hasPrefix(BackupFormat.dataPrefix) || name.hasPrefix(BackupFormat.outsidePrefix) else { return false }
        let components = name.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        return !components.isEmpty && components.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }

    private static func firstDifference(_ manifest: [BackupManifestEntry], _ found: [BackupManifestEntry]) -> String {
        for (recorded, actual) in zip(manifest, found) where recorded != actual {
            return recorded.name == actual.name
                ? "\(actual.name): SHA-256 \(actual.sha256), the manifest says \(recorded.sha256)"
                : "\(actual.name) is not the manifest's \(recorded.name)"
        }
        return manifest.isEmpty ? "the manifest is not readable" : "the manifest lists \(manifest.count) entries, the archive holds \(found.count)"
    }
}
