import Foundation

/// The backup file's layout (docs/backup.md): one POSIX ustar archive, readable by `tar -tvf`,
///
///     backup.json        what this backup is (BackupDescription), always first
///     data/<path>        a file of the data directory, at its path relative to it
///     outside/<path>     a file from outside it (the configuration, certificates), at its absolute path
///     keys.enc           the private keys, only with --include-keys, encrypted (BackupKeys)
///     manifest.json      every entry above with its size and SHA-256
///     trailer.json       SHA-256 of the manifest and of every archive byte before this entry
///     two zero blocks    the end of a tar archive
///
/// The trailer comes last so that a file cut anywhere lacks it: a truncated backup is told from
/// a complete one, and the whole-archive hash catches a flipped byte wherever it falls (content,
/// a header, padding), which the per-file hashes alone would not.
package enum BackupFormat {
    package static let identifier = "commune-gateway-backup/1"
    package static let descriptionName = "backup.json"
    package static let manifestName = "manifest.json"
    package static let trailerName = "trailer.json"
    package static let keysName = "keys.enc"
    package static let dataPrefix = "data/"
    package static let outsidePrefix = "outside/"
    /// Written into the restored data directory (docs/backup.md, "After a restore").
    package static let restoredMarkerName = "restored-from.json"
    /// Largest JSON entry a reader accepts into memory (the manifest of a very large store fits).
    static let maximumJSONSize = 256 << 20

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

/// `backup.json`: what a backup holds and where it came from.
package struct BackupDescription: Sendable, Codable, Equatable {
    package var format = BackupFormat.identifier
    /// When the database snapshot began: every document acknowledged before this is in it.
    package var startedAt: Date
    package var agencyCode: String?
    package var agencyName: String?
    package var hostName: String
    /// The data directory the backup was taken from (a restore may put it elsewhere).
    package var dataDirectory: String
    /// The configuration file's original path, stored as `outside/<path>` (nil: none was given).
    package var configurationFile: String?
    package var documents: Int
    package var keysIncluded: Bool

    enum CodingKeys: String, CodingKey {
        case format, startedAt = "started_at", agencyCode = "agency_code", agencyName = "agency_name"
        case hostName = "host_name", dataDirectory = "data_directory", configurationFile = "configuration_file"
        case documents, keysIncluded = "keys_included"
    }
}

/// One entry of `manifest.json`.
package struct BackupManifestEntry: Sendable, Codable, Equatable {
    package var name: String
    package var size: Int64
    package var sha256: String
}

struct BackupManifest: Codable {
    var format = BackupFormat.identifier
    var entries: [BackupManifestEntry]
}

/// `trailer.json`.
struct BackupTrailer: Codable {
    var format = BackupFormat.identifier
    var manifestSHA256: String
    /// SHA-256 of every byte of the archive before the trailer's header.
    var archiveSHA256: String
    var archiveBytes: Int64

    enum CodingKeys: String, CodingKey {
        case format, manifestSHA256 = "manifest_sha256", archiveSHA256 = "archive_sha256", archiveBytes = "archive_bytes"
    }
}

/// `restored-from.json`, left in a restored data directory: the daemon (and a technician) learn
/// from it that this store is a restore and of when, so the hub can be asked to deliver again
/// what arrived since (docs/backup.md).
package struct RestoredFromMarker: Sendable, Codable, Equatable {
    package var backupStartedAt: Date
    package var boxAgency: String?
    package var restoredAt: Date
    package var backupFile: String
    package var keysRestored: Bool

    enum CodingKeys: String, CodingKey {
        case backupStartedAt = "backup_started_at", boxAgency = "box_agency", restoredAt = "restored_at"
        case backupFile = "backup_file", keysRestored = "keys_restored"
    }

    package static func read(dataDirectory: String) -> RestoredFromMarker? {
        let path = StoreLayout(dataDirectory: dataDirectory).dataDirectory + "/" + BackupFormat.restoredMarkerName
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? BackupFormat.decoder().decode(RestoredFromMarker.self, from: data)
    }
}

/// Why a backup could not be taken or restored; `description` is for the technician, Vietnamese first.
package enum BackupFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file ends before its trailer.
    case truncated(String)
    /// A byte differs from what the backup recorded, or the file is not a backup at all.
    case damaged(String)
    case targetNotEmpty(String)
    case targetInUse(String)
    case passphrase(vi: String, en: String)
    case io(String)

    package var description: String {
        switch self {
        case .truncated(let detail):
            "Bản sao lưu bị cắt cụt, không khôi phục (chưa ghi gì): \(detail) / The backup is truncated and was not restored (nothing was written): \(detail)"
        case .damaged(let detail):
            "Bản sao lưu bị hỏng, không khôi phục (chưa ghi gì): \(detail) / The backup is damaged and was not restored (nothing was written): \(detail)"
        case .targetNotEmpty(let directory):
            "Thư mục dữ liệu \(directory) đã có kho văn bản; dùng --force để thay (kho cũ được chuyển sang replaced-…, không bị xóa) / "
                + "The data directory \(directory) already holds a store; use --force to replace it (the old one is moved to replaced-…, not deleted)"
        case .targetInUse(let directory):
            "Một tiến trình gatewayd đang dùng \(directory); hãy dừng nó trước khi khôi phục / A gatewayd process is using \(directory); stop it before restoring"
        case .passphrase(let vi, let en):
            "\(vi) / \(en)"
        case .io(let detail):
            "Lỗi đọc/ghi: \(detail) / I/O error: \(detail)"
        }
    }
}
