// A small file replaced whole or not at all (the console's certificates and setup code, the
// appearance images an administrator uploads, the hub's revocation list and CRL).
#if canImport(Glibc)
import Glibc
#endif

extension POSIXFile {
    /// A temporary file with its final mode, fsynced, renamed into place, the directory fsynced:
    /// a crash leaves the old file or the new one, never a part.
    package static func replaceWhole(_ path: String, with bytes: [UInt8], mode: mode_t) throws(SystemCallError) {
        let temporary = path + ".tmp"
        unlinkIfPresent(temporary)
        let fd = try createExclusive(temporary, mode: mode)
        do {
            try writeAll(fd, bytes, path: temporary)
            try fsyncFile(fd, path: temporary)
            close(fd)
        } catch {
            close(fd)
            unlinkIfPresent(temporary)
            throw error
        }
        try rename(temporary, path)
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        try fsyncDirectory(directory.isEmpty ? "/" : directory)
    }
}
