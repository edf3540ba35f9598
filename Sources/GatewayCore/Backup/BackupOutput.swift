import DurableFiles
import Foundation

/// Where a backup's bytes go: a file, a pipe, a socket. `BackupWriter` writes in chunks of at
/// most 64 KiB and never holds a document whole, so any sink keeps memory flat.
package protocol BackupOutput {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// An open file descriptor (not closed here; the caller owns it).
package struct FileDescriptorOutput: BackupOutput {
    package let fd: Int32
    package let name: String

    package init(fd: Int32, name: String) { (self.fd, self.name) = (fd, name) }

    package mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        try POSIXFile.writeAll(fd, bytes, path: name)
    }
}
