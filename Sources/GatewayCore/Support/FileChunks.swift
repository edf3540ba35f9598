import DurableFiles
import Foundation
import NIOCore
import NIOPosix

/// A region of a file as a sequence of 64 KiB buffers: the body of an upload (the local API
/// client's submissions, the relay's packages), so memory never grows with the file's size.
/// With an I/O pool the reads run there (the daemon: never block a cooperative thread on disk);
/// without, inline (the command-line client, which has nothing else to do).
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let ioPool: NIOThreadPool?
    let path: String
    let from: Int64
    let to: Int64
    /// The event loop the body's connection writes on, if known: each chunk after the first is
    /// read only once that loop has run everything queued before (a no-op task as a barrier).
    ///
    /// Why: AsyncHTTPClient asks for the next chunk as soon as it has *queued* the previous write
    /// on the loop, and pauses the body only once the loop has run the writes and found the socket
    /// full. Reads from the page cache are fast, so without the barrier megabytes of chunks could
    /// pile up in the loop's queue whenever the loop thread was slow to run (up to 25 MB measured
    /// during a 500 MB upload on 2 loaded cores); with it, at most one chunk waits ahead of the
    /// socket's own high-water mark.
    var pacer: EventLoop? = nil
    static let chunkSize = 64 * 1024

    /// Owns the descriptor: closed when the body is done or abandoned (a broken upload).
    final class Descriptor: Sendable {
        let fd: Int32
        init(path: String) throws {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw SystemCallError(call: "open", path: path, errno: errno) }
        }
        deinit { close(fd) }

        func read(_ count: Int, at offset: Int64, path: String) throws -> ByteBuffer {
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer in
                Swift.max(0, pread(fd, pointer.baseAddress, count, off_t(offset)))
            }
            if read == 0 { throw SystemCallError(call: "pread (the file is shorter than expected)", path: path, errno: errno) }
            return buffer
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let ioPool: NIOThreadPool?
        let path: String
        var offset: Int64
        let end: Int64
        var descriptor: Descriptor?
        let pacer: EventLoop?

        mutating func next() async throws -> ByteBuffer? {
            guard offset < end else {
                descriptor = nil
                return nil
            }
            if let pacer, descriptor != nil { try await pacer.submit {}.get() }
            if descriptor == nil { descriptor = try Descriptor(path: path) }
            let file = descriptor!, at = offset, path = path
            let count = Int(Swift.min(Int64(FileChunks.chunkSize), end - offset))
            let buffer = if let ioPool {
                try await ioPool.runIfActive { try file.read(count, at: at, path: path) }
            } else {
                try file.read(count, at: at, path: path)
            }
            offset += Int64(buffer.readableBytes)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(ioPool: ioPool, path: path, offset: from, end: to, pacer: pacer)
    }

    /// The whole region in one buffer, read in one trip to the I/O pool: for small bodies (the
    /// relay's whole submissions, at most 1 MiB), where one write of one buffer costs far less
    /// than a stream of chunks, each a hop to the pool and a pass through the HTTP client's body
    /// state machine (measured: docs/PERFORMANCE.md, "Relay"). Callers bound the size.
    func readWhole() async throws -> ByteBuffer {
        let descriptor = try Descriptor(path: path)
        let count = Int(to - from), path = path, ioPool = ioPool
        func read(_ length: Int, at offset: Int64) async throws -> ByteBuffer {
            guard let ioPool else { return try descriptor.read(length, at: offset, path: path) }
            return try await ioPool.runIfActive { try descriptor.read(length, at: offset, path: path) }
        }
        var whole = try await read(count, at: from)
        // pread may stop short (a signal, a huge region): the rest in further reads.
        while whole.readableBytes < count {
            var more = try await read(count - whole.readableBytes, at: from + Int64(whole.readableBytes))
            whole.writeBuffer(&more)
        }
        return whole
    }
}
