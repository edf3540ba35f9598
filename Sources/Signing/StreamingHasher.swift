import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials  // DataProtocol
#else
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#endif

/// One of swift-crypto's hash functions behind one type, chosen at run time, fed piece by piece so
/// a 200 MB file is hashed in constant memory. The one hasher of the project: file digests, PDF
/// byte ranges, CMS signed attributes, XML signatures, RSA padding. SHA-1 exists only to read
/// legacy signatures (and report them as weak); nothing here signs with it.
package struct StreamingHasher {
    private enum State {
        case sha1(Insecure.SHA1), sha256(SHA256), sha384(SHA384), sha512(SHA512)
    }
    private var state: State

    package init(_ algorithm: DigestAlgorithm) {
        state = switch algorithm {
        case .sha256: .sha256(SHA256())
        case .sha384: .sha384(SHA384())
        case .sha512: .sha512(SHA512())
        }
    }

    /// For checking legacy signatures only.
    package static func legacySHA1() -> StreamingHasher {
        var hasher = StreamingHasher(.sha256)
        hasher.state = .sha1(Insecure.SHA1())
        return hasher
    }

    package mutating func update(bufferPointer bytes: UnsafeRawBufferPointer) {
        switch state {
        case .sha1(var hasher): hasher.update(bufferPointer: bytes); state = .sha1(hasher)
        case .sha256(var hasher): hasher.update(bufferPointer: bytes); state = .sha256(hasher)
        case .sha384(var hasher): hasher.update(bufferPointer: bytes); state = .sha384(hasher)
        case .sha512(var hasher): hasher.update(bufferPointer: bytes); state = .sha512(hasher)
        }
    }

    package mutating func update(_ bytes: some DataProtocol) {
        for region in bytes.regions { region.withUnsafeBytes { update(bufferPointer: $0) } }
    }

    package func finalize() -> [UInt8] {
        switch state {
        case .sha1(let hasher): Array(hasher.finalize())
        case .sha256(let hasher): Array(hasher.finalize())
        case .sha384(let hasher): Array(hasher.finalize())
        case .sha512(let hasher): Array(hasher.finalize())
        }
    }
}

extension DigestAlgorithm {
    /// The digest of bytes in memory.
    package func hash(_ bytes: some DataProtocol) -> [UInt8] {
        var hasher = StreamingHasher(self)
        hasher.update(bytes)
        return hasher.finalize()
    }
}
