import Crypto
import DocumentModel
import DurableFiles

/// The audit trail's hash chain (docs/architecture.md, "The audit chain"): each line of
/// `transition` carries the hash of the line before it, one chain for the whole box in `seq`
/// order, so a line edited, deleted or moved by hand in the SQLite file breaks the chain at that
/// place. Pure: what is hashed, and how a walk over the lines judges them; the rows are read and
/// written by `AuditChainRecords`.
///
/// The hash of a line is SHA-256 over these fields, each written as its length (4 bytes, big
/// endian) then its UTF-8 bytes, in this order:
///
///     "gatewayd-audit/1"   the encoding's name and version
///     previous_hash        the previous line's hash as 64 lowercase hex digits (64 "0" for the first)
///     seq                  the line's number, in decimal
///     document_id          the document's id
///     from_state           the state before; absent (the first line of a document) as length FFFFFFFF, no bytes
///     to_state             the state after
///     at                   the time exactly as stored in the row ("YYYY-MM-DD HH:MM:SS.SSS", UTC)
///     cause                the words of the line
///
/// Lengths make the encoding unambiguous (no separator a cause could contain); the stored text of
/// `at` is hashed, not a re-formatted date, so the check reads the row and hashes what it reads.
package enum AuditChain {
    package static let encodingName = "gatewayd-audit/1"
    /// The `previous_hash` of the first line.
    package static let genesis = String(repeating: "0", count: 64)

    /// One line as stored: the fields the hash covers.
    package struct Entry: Sendable, Equatable {
        package var seq: Int64
        package var documentId: String
        package var fromState: String?
        package var toState: String
        package var at: String
        package var cause: String

        package init(seq: Int64, documentId: String, fromState: String?, toState: String, at: String, cause: String) {
            (self.seq, self.documentId, self.fromState, self.toState, self.at, self.cause) = (seq, documentId, fromState, toState, at, cause)
        }
    }

    /// The bytes that are hashed (see above).
    package static func encoding(_ entry: Entry, previous: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160 + entry.cause.utf8.count)
        func field(_ text: String?) {
            guard let text else {
                bytes += [0xFF, 0xFF, 0xFF, 0xFF]
                return
            }
            let count = UInt32(text.utf8.count)
            bytes += [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
            bytes += text.utf8
        }
        for text in [encodingName, previous, String(entry.seq), entry.documentId, entry.fromState, entry.toState, entry.at, entry.cause] {
            field(text)
        }
        return bytes
    }

    /// The line's hash, lowercase hex.
    package static func hash(_ entry: Entry, previous: String) -> String {
        POSIXFile.hex(SHA256.hash(data: encoding(entry, previous: previous)))
    }

    /// What is wrong with one line, in the words `store check` prints.
    package enum Problem: Sendable, Equatable {
        /// The line has no hash: written around gatewayd (by hand, or a tool that knows no chain).
        case unchained
        /// Its `previous_hash` is not the hash of the line before it: a line was deleted, or
        /// lines were moved, between the two.
        case brokenLink(previousSeq: Int64?)
        /// Its hash is not the hash of its fields: the line was edited after it was written.
        case altered

        package var vietnamese: String {
            switch self {
            case .unchained: "dòng nhật ký không có mã băm chuỗi (được ghi ngoài gatewayd)"
            case .brokenLink(let previous): "liên kết với dòng trước (\(previous.map { "số \($0)" } ?? "đầu chuỗi")) bị đứt: có dòng đã bị xóa hoặc đổi chỗ"
            case .altered: "nội dung dòng nhật ký đã bị sửa sau khi ghi (mã băm không khớp)"
            }
        }

        package var english: String {
            switch self {
            case .unchained: "the audit line has no chain hash (written outside gatewayd)"
            case .brokenLink(let previous): "the link to the line before (\(previous.map { "number \($0)" } ?? "start of the chain")) is broken: a line was deleted or moved"
            case .altered: "the audit line was changed after it was written (its hash does not match)"
            }
        }
    }

    /// Walks lines in `seq` order, one at a time (`next`), remembering only the previous hash:
    /// constant memory whatever the history's length.
    package struct Walk: Sendable {
        package private(set) var head: AuditAnchor?
        package private(set) var count = 0
        private var previousHash = AuditChain.genesis
        private var previousSeq: Int64?

        package init() {}

        /// The problem with the next line (stored with `previousHash` and `hash`), or nil.
        package mutating func next(_ entry: Entry, previousHash stored: String?, hash: String?) -> Problem? {
            count += 1
            guard let stored, let hash else { return .unchained }
            guard stored == previousHash else { return .brokenLink(previousSeq: previousSeq) }
            guard AuditChain.hash(entry, previous: stored) == hash else { return .altered }
            (previousHash, previousSeq, head) = (hash, entry.seq, AuditAnchor(entry: entry.seq, sha256: hash))
            return nil
        }
    }
}
