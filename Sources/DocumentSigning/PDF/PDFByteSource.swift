#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a PDF's bytes come from: read by offset, in pieces, so a 200 MB file is never held in
/// memory. `PDFFileSource` reads a file with pread(2); `PDFMemorySource` serves tests and the fuzzer.
package protocol PDFByteSource: AnyObject {
    var count: Int { get }
    /// Up to `count` bytes from `offset` (fewer at the end of the source, none past it).
    func read(at offset: Int, count: Int) throws -> [UInt8]
}

package final class PDFMemorySource: PDFByteSource {
    package let bytes: [UInt8]
    package init(_ bytes: [UInt8]) { self.bytes = bytes }
    package var count: Int { bytes.count }
    package func read(at offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, offset < bytes.count, count > 0 else { return [] }
        return Array(bytes[offset..<min(bytes.count, offset + min(count, bytes.count - offset))])
    }
}

/// A file opened read-only; its size is taken once, at open (the file must not change while read).
package final class PDFFileSource: PDFByteSource {
    let descriptor: Int32
    package let count: Int

    package init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw PDFError.io("\(path): \(String(cString: strerror(errno)))") }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            close(descriptor)
            throw PDFError.io("\(path): \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        self.count = Int(status.st_size)
    }

    deinit { close(descriptor) }

    package func read(at offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, offset < self.count, count > 0 else { return [] }
        let wanted = min(count, self.count - offset)
        var buffer = [UInt8](repeating: 0, count: wanted)
        var done = 0
        while done < wanted {
            let got = buffer.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + done, wanted - done, off_t(offset + done))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw PDFError.io(String(cString: strerror(errno)))
            }
            if got == 0 { break }
            done += got
        }
        if done < wanted { buffer.removeLast(wanted - done) }
        return buffer
    }
}
