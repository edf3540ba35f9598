import Crypto
import DocumentSigning
import DurableFiles
import Foundation

/// Content of a new document on its way into the store: written under `store/tmp/`, hashed and
/// counted as it streams in, so memory stays flat whatever the size.
///
/// Used by one task at a time (the intake that created it); `@unchecked Sendable` only so that
/// task can hand the blocking fsync to the I/O thread pool.
package final class StagedDocument: @unchecked Sendable {
    package let id: DocumentID
    let path: String
    let sizeLimit: Int64
    private var fd: Int32
    private var hasher = SHA256()
    package private(set) var size: Int64 = 0
    /// The first bytes as they arrived (at most `headLength`): what a format check needs to know
    /// what the file says it is, without reading the file back (PDFIntakeCheck).
    package private(set) var head: [UInt8] = []
    static let headLength = 8

    init(id: DocumentID, path: String, sizeLimit: Int64) throws(SystemCallError) {
        self.id = id
        self.path = path
        self.sizeLimit = sizeLimit
        self.fd = try POSIXFile.createExclusive(path)
    }

    deinit {
        // A staged document that was neither committed nor discarded (a task was cancelled):
        // its temp file must not outlive it.
        if fd >= 0 { close(fd); POSIXFile.unlinkIfPresent(path) }
    }

    /// Appends bytes; on a full disk or an oversize document the partial file is removed at once.
    package func append(_ bytes: UnsafeRawBufferPointer) throws(IntakeError) {
        guard fd >= 0 else { return }
        if size + Int64(bytes.count) > sizeLimit {
            discard()
            throw .documentTooLarge(limit: sizeLimit)
        }
        do {
            try POSIXFile.writeAll(fd, bytes, path: path)
        } catch {
            discard()
            throw error.isNoSpace ? .diskFull : .storeUnavailable(error.description)
        }
        hasher.update(bufferPointer: bytes)
        if head.count < Self.headLength { head += bytes.prefix(Self.headLength - head.count) }
        size += Int64(bytes.count)
    }

    package func append(_ bytes: [UInt8]) throws(IntakeError) {
        var failure: IntakeError?
        bytes.withUnsafeBytes { raw in
            do throws(IntakeError) { try append(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Flushes the content to stable storage and closes it. Blocking: call from the I/O pool.
    func finish() throws(IntakeError) -> FinishedContent {
        guard fd >= 0 else { throw .storeUnavailable("staged document already closed") }
        if size == 0 {
            discard()
            throw .emptyDocument
        }
        do {
            try POSIXFile.fsyncFile(fd, path: path)
        } catch {
            discard()
            throw error.isNoSpace ? .diskFull : .storeUnavailable(error.description)
        }
        close(fd)
        fd = -1
        let digest = POSIXFile.hex(hasher.finalize())
        // The signing stage's own test (a PDF by its first kilobyte), read back from the page cache.
        return FinishedContent(id: id, temporaryPath: path, size: size, sha256: digest, isPDF: FileSigning.isPDF(path: path))
    }

    /// Drops the content: nothing of it remains.
    package func discard() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        POSIXFile.unlinkIfPresent(path)
    }
}

/// Content that is complete and on stable storage under its temporary name, waiting for commit.
package struct FinishedContent: Sendable {
    package let id: DocumentID
    let temporaryPath: String
    package let size: Int64
    package let sha256: String
    /// Whether the signing stage can sign it as a PDF: a main document that is not one waits with
    /// the reason (it must be converted) from the moment it is accepted.
    package let isPDF: Bool
}
