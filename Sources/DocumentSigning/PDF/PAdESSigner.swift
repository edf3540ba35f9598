import Crypto
import DocumentModel
import Foundation
import Signing
import SwiftASN1
import TimeJSON
import X509
#if canImport(Glibc)
import Glibc
#endif

/// Signs a PDF as PAdES baseline B-B (ETSI EN 319 142-1) by incremental update: the original bytes
/// are copied unchanged, the update (`PDFSignatureUpdate`) is appended with a /Contents
/// placeholder, /ByteRange is filled in place, the two ranges are hashed by streaming, the CMS
/// (`CMSSignedDataBuilder`, profile .pades) is made through the `Signer`, and its hex is written
/// into the placeholder. Memory does not grow with the file: the copy and the hash go through a
/// 64 KB buffer. The output appears under its name only when complete (written beside it, then
/// renamed).
package enum PAdESSigner {
    package struct Options: Sendable {
        /// 1-based page that carries the widget.
        package var page = 1
        /// A visible field: [x, y, width, height] in points, origin bottom left of the page; nil
        /// for an invisible signature.
        package var rectangle: [Double]?
        /// Text of a visible field (default: signer's name and the time).
        package var lines: [String]?
        /// A Decree 30 appearance (signature or seal image, text in an embedded font); when set,
        /// `rectangle` and `lines` are not used (its own rectangle, or its role's placement, is).
        package var appearance: SignatureAppearance?
        package var reason: String?
        package var location: String?
        package var signingTime = Date()
        /// The offset written in /M (Vietnam: +07:00).
        package var timeZone = GatewayJSON.vietnamTime
        /// Bytes reserved for the CMS; nil: estimated from the chain and the key.
        package var reservedSignatureBytes: Int?
        /// PAdES B-T: an RFC 3161 token for the signature value (`TimeStampClient`); nil for B-B.
        package var timestamp: (@Sendable (_ signatureValue: [UInt8]) async throws -> [UInt8])?
        package init() {}
    }

    package struct Result: Sendable {
        package let fieldName: String
        package let byteRange: [Int]
        package let signatureBytes: Int
        package let reservedBytes: Int
        package let pageCount: Int
    }

    package static func sign(input: String, output: String, signer: any Signer, algorithm: SignatureAlgorithm,
                            options: Options = Options()) async throws -> Result {
        let document = try PDFDocument(path: input)
        guard !document.isEncrypted else { throw PDFError.encrypted }
        let fileLength = document.source.count
        var reserved = try options.reservedSignatureBytes ?? estimateSignatureSize(signer) + (options.timestamp == nil ? 0 : timestampAllowance)
        let temporary = output + ".part-\(getpid())"
        defer { unlink(temporary) }
        var needed = 0
        // Twice at most: when the CMS comes out larger than estimated, the update is written again
        // with room for it (one more private-key operation).
        for _ in 0..<2 {
            var request = PDFSignatureUpdate.Request(
                pageNumber: options.page, signingTime: pdfDate(options.signingTime, options.timeZone), reason: options.reason,
                location: options.location, reservedSignatureBytes: reserved, idSuffix: randomBytes(16))
            request.signatureAppearance = options.appearance
            if options.appearance == nil, let rectangle = options.rectangle {
                guard rectangle.count == 4, rectangle[2] > 0, rectangle[3] > 0, rectangle.allSatisfy(\.isFinite) else {
                    throw PDFError.structure("--rect: x,y,w,h với w, h dương / x,y,w,h with a positive width and height")
                }
                let name = commonName(signer.certificate)
                request.appearance = .init(rectangle: rectangle, lines: options.lines ?? [
                    "Ký bởi / Signed by: \(name)", "Thời gian / Time: \(isoTime(options.signingTime, options.timeZone))",
                ])
            }
            let update = try PDFSignatureUpdate(document: document, request: request, fileLength: fileLength)
            let file = try OutputFile(path: temporary)
            try file.copy(from: document.source)
            try file.write(update.bytes, at: fileLength)
            let total = fileLength + update.bytes.count
            let contents = (fileLength + update.contentsRange.lowerBound)..<(fileLength + update.contentsRange.upperBound)
            let byteRange = [0, contents.lowerBound, contents.upperBound, total - contents.upperBound]
            try file.write(byteRangeText(byteRange, width: update.byteRangeRange.count), at: fileLength + update.byteRangeRange.lowerBound)
            let digest = try file.digest(ranges: [0..<contents.lowerBound, contents.upperBound..<total], algorithm: algorithm.digest)
            let cms = try await CMSSignedDataBuilder.sign(contentDigest: digest, signer: signer, algorithm: algorithm, profile: .pades,
                                                          signingTime: options.signingTime, timestamp: options.timestamp)
            guard cms.count <= reserved else {
                needed = cms.count
                reserved = cms.count + 2048
                continue
            }
            try file.write(Array(cms.flatMap(PDFSerializer.hexDigits)), at: contents.lowerBound + 1)
            try file.sync()
            guard rename(temporary, output) == 0 else { throw PDFError.io("\(output): \(String(cString: strerror(errno)))") }
            syncDirectory(of: output)
            return Result(fieldName: update.fieldName, byteRange: byteRange, signatureBytes: cms.count, reservedBytes: reserved,
                          pageCount: try document.pageCount())
        }
        throw PDFError.signatureTooLarge(reserved: reserved, needed: needed)
    }

    /// The CMS is the chain, the signature value and under 1 KB of structure and signed attributes
    /// (measured: 1,372 bytes of CMS for an RSA-2048 signer whose one certificate is 691 bytes, so
    /// 425 bytes besides the certificate and the signature value); 2 KB on top leaves room for
    /// longer encodings. An RFC 3161 timestamp needs its own allowance (`timestampAllowance`).
    static func estimateSignatureSize(_ signer: any Signer) throws -> Int {
        let chain = try signer.certificateChain.reduce(0) { $0 + (try DER.encode($1).count) }
        let signature: Int
        switch signer.keyType {
        case .rsa(let bits): signature = bits / 8
        case .ecdsaP256: signature = 72
        case .ecdsaP384: signature = 104
        }
        return chain + signature + 2048
    }

    /// Room for a signature timestamp token: a TSA's token is its TSTInfo, signed attributes,
    /// signature and certificate(s) — 1.5 to 3 KB with one RSA certificate, more with a chain. 8 KB
    /// covers a TSA that sends a chain of three; a larger token costs one more signing round.
    static let timestampAllowance = 8192

    /// The subject's CN (the person's name), else the whole subject.
    package static func commonName(_ certificate: Certificate) -> String {
        for relativeName in certificate.subject {
            for attribute in relativeName where attribute.type == .RDNAttributeType.commonName {
                return String(describing: attribute.value)
            }
        }
        return String(describing: certificate.subject)
    }

    /// `[0 a b c]` padded with spaces to the placeholder's width.
    static func byteRangeText(_ range: [Int], width: Int) -> [UInt8] {
        var text = Array("[\(range.map(String.init).joined(separator: " "))".utf8)
        text += [UInt8](repeating: 0x20, count: max(0, width - text.count - 1))
        return text + "]".utf8
    }

    /// §7.9.4: `D:YYYYMMDDHHmmSS+HH'mm'`.
    static func pdfDate(_ date: Date, _ zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let offset = zone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "D:\(c.year!)\(two(c.month!))\(two(c.day!))\(two(c.hour!))\(two(c.minute!))\(two(c.second!))"
            + "\(sign)\(two(abs(offset) / 3600))'\(two(abs(offset) % 3600 / 60))'"
    }

    /// ISO 8601 with the offset, as Decree 30 texts show it (`2026-11-21T09:15:02+07:00`).
    package static func isoTime(_ date: Date, _ zone: TimeZone) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        if descriptor >= 0 { fsync(descriptor); close(descriptor) }
    }
}

/// The output being built: written by offset, read back for hashing, 64 KB at a time.
private final class OutputFile {
    let descriptor: Int32
    let path: String
    static let chunk = 65_536

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw PDFError.io("\(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(descriptor) }

    func copy(from source: PDFByteSource) throws {
        var offset = 0
        while offset < source.count {
            let piece = try source.read(at: offset, count: Self.chunk)
            guard !piece.isEmpty else { throw PDFError.io("the input shrank while it was copied") }
            try write(piece, at: offset)
            offset += piece.count
        }
    }

    func write(_ bytes: [UInt8], at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
            if written < 0 {
                if errno == EINTR { continue }
                throw PDFError.io("\(path): \(String(cString: strerror(errno)))")
            }
            done += written
        }
    }

    func read(at offset: Int, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if got < 0 {
                if errno == EINTR { continue }
                throw PDFError.io("\(path): \(String(cString: strerror(errno)))")
            }
            guard got > 0 else { throw PDFError.io("\(path): shorter than written") }
            done += got
        }
        return buffer
    }

    func digest(ranges: [Range<Int>], algorithm: DigestAlgorithm) throws -> [UInt8] {
        var hasher = StreamingHasher(algorithm)
        for range in ranges {
            var offset = range.lowerBound
            while offset < range.upperBound {
                let piece = try read(at: offset, count: min(Self.chunk, range.upperBound - offset))
                hasher.update(piece)
                offset += piece.count
            }
        }
        return hasher.finalize()
    }

    func sync() throws {
        guard fsync(descriptor) == 0 else { throw PDFError.io("\(path): fsync: \(String(cString: strerror(errno)))") }
    }
}
