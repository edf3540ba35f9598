import Foundation
import SwiftASN1
import X509

/// Verifies what arrives: every signature of a PDF, or a detached `.p7s` beside its content.
/// The I/O lives here (reading the file by ranges, streaming hashes); the checks are in
/// `SignatureChecks` and the PDF facts in the pure helpers below.
package enum DocumentVerifier {
    package enum Failure: Error, CustomStringConvertible {
        case unreadable(String, String)
        case trustAnchors(String)

        package var description: String {
            switch self {
            case .unreadable(let path, let reason): "không đọc được \(path): \(reason) / cannot read \(path): \(reason)"
            case .trustAnchors(let reason): "tệp gốc tin cậy không đọc được / cannot read the trust anchors: \(reason)"
            }
        }
    }

    static let readChunk = 64 * 1024

    /// The certificates of a PEM file (one or more `CERTIFICATE` blocks).
    package static func trustAnchors(pemFile path: String) throws -> [Certificate] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw Failure.trustAnchors(path) }
        let certificates = try (try? PEMDocument.parseMultiple(pemString: text))?
            .filter { $0.discriminator == "CERTIFICATE" }
            .map { try Certificate(derEncoded: $0.derBytes) } ?? []
        guard !certificates.isEmpty else { throw Failure.trustAnchors("\(path): no CERTIFICATE block") }
        return certificates
    }

    /// A PDF (by its header) or a detached CMS signature; for a `.p7s` the content is `content`,
    /// else the same path without `.p7s`.
    /// `revocation`: how to ask OCSP responders; nil: revocation is reported as not checked.
    package static func verify(path: String, content: String? = nil, trustRoots: [Certificate]?,
                              revocation: RevocationChecker? = nil) async throws -> DocumentVerification {
        let source: PDFFileSource
        do { source = try PDFFileSource(path: path) } catch { throw Failure.unreadable(path, "\(error)") }
        let head = try source.read(at: 0, count: min(1024, source.count))
        if head.count >= 5, let found = ByteSearch.first(Array("%PDF-".utf8), in: head), found.lowerBound < 1024 {
            return await verifyPDF(path: path, source: source, trustRoots: trustRoots, revocation: revocation)
        }
        let contentPath = content ?? (path.hasSuffix(".p7s") ? String(path.dropLast(4)) : path)
        return await verifyDetached(signaturePath: path, contentPath: contentPath, trustRoots: trustRoots, revocation: revocation)
    }

    package static func verifyDetached(signaturePath: String, contentPath: String, trustRoots: [Certificate]?,
                                      revocation: RevocationChecker? = nil) async -> DocumentVerification {
        let name = URL(fileURLWithPath: signaturePath).lastPathComponent
        guard let cms = FileManager.default.contents(atPath: signaturePath) else {
            var failed = SignatureVerification(name: name)
            failed.checks.append(.init("format", .failed, Failure.unreadable(signaturePath, "no such file").description))
            failed.decide()
            return DocumentVerification(file: signaturePath, kind: "CMS (.p7s)", trustAnchorsGiven: trustRoots != nil, signatures: [failed])
        }
        // A PEM-armoured signature (`-----BEGIN PKCS7-----` / `CMS`) is read too.
        var bytes = Array(cms)
        if let text = String(data: cms, encoding: .utf8), text.hasPrefix("-----BEGIN"),
           let document = try? PEMDocument(pemString: text) {
            bytes = document.derBytes
        }
        var signature = await SignatureChecks.verify(
            cms: bytes, name: name, contentDigest: { digest in try hashFile(contentPath, ranges: nil, digest) },
            claimedTime: nil, trustRoots: trustRoots, revocation: revocation)
        signature.checks.insert(.init("coverage", .passed, "nội dung được ký / signed content: \(contentPath)"), at: 0)
        signature.decide()
        return DocumentVerification(file: signaturePath, kind: "CMS (.p7s)", trustAnchorsGiven: trustRoots != nil, signatures: [signature])
    }

    static func verifyPDF(path: String, source: PDFFileSource, trustRoots: [Certificate]?, revocation: RevocationChecker?) async -> DocumentVerification {
        let fileSize = source.count
        var signatures: [SignatureVerification] = []
        var notes: [String] = []
        let fields: [PDFDocument.SignatureField]
        let document: PDFDocument
        do {
            document = try PDFDocument(source: source)
            fields = try document.formFields().signatures.filter(\.isSigned)
        } catch {
            var failed = SignatureVerification(name: URL(fileURLWithPath: path).lastPathComponent)
            failed.checks.append(.init("format", .failed, "tệp PDF không đọc được / the PDF cannot be read: \(error)"))
            failed.decide()
            return DocumentVerification(file: path, kind: "PDF", trustAnchorsGiven: trustRoots != nil, signatures: [failed])
        }
        let revisionEnds = (try? endOfFileMarkers(source)) ?? []
        for field in fields {
            var result = SignatureVerification(name: field.name)
            guard let reference = field.reference, let fieldDictionary = try? document.dictionary(.reference(reference)),
                  let value = try? document.dictionary(fieldDictionary["V"]) else {
                result.checks.append(.init("format", .failed, "không đọc được từ điển chữ ký / cannot read the signature dictionary"))
                result.decide()
                signatures.append(result)
                continue
            }
            let subFilter = value["SubFilter"]?.nameValue.map { String(decoding: $0.bytes, as: UTF8.self) } ?? "?"
            guard ["ETSI.CAdES.detached", "adbe.pkcs7.detached"].contains(subFilter) else {
                result.checks.append(.init("coverage-unsupported", .failed,
                                           "loại chữ ký /SubFilter \(subFilter) chưa được hỗ trợ / /SubFilter \(subFilter) is not supported"))
                result.decide()
                signatures.append(result)
                continue
            }
            let byteRange = (try? document.resolve(value["ByteRange"]).arrayValue?.compactMap(\.integerValue)) ?? nil
            let contents = (try? document.resolve(value["Contents"]).stringBytes) ?? nil
            guard let byteRange, let contents,
                  let coverage = PDFSignatureCoverage(byteRange: byteRange, fileSize: fileSize, revisionEnds: revisionEnds),
                  (try? gapIsTheContentsString(source, coverage)) == true else {
                result.checks.append(.init("byte-range", .failed,
                                           "/ByteRange không hợp lệ hoặc không bao quanh /Contents / /ByteRange is malformed or does not surround /Contents"))
                result.decide()
                signatures.append(result)
                continue
            }
            let claimedTime = value["M"]?.stringBytes.flatMap { PDFDate.parse(String(decoding: $0, as: UTF8.self)) }
            let ranges = [byteRange[0]..<(byteRange[0] + byteRange[1]), byteRange[2]..<(byteRange[2] + byteRange[3])]
            result = await SignatureChecks.verify(
                cms: contents, name: field.name, contentDigest: { digest in try hashFile(path, ranges: ranges, digest) },
                claimedTime: claimedTime, trustRoots: trustRoots, revocation: revocation)
            if value["SubFilter"]?.nameValue == "ETSI.CAdES.detached", result.signingTimeSource == "cms-signing-time" {
                result.checks.append(.init("format", .warning,
                                           "PAdES không cho phép thuộc tính signing-time trong CMS / PAdES forbids the CMS signing-time attribute"))
            }
            (result.coveredRevision, result.totalRevisions, result.coversWholeFile) =
                (coverage.revision, coverage.totalRevisions, coverage.coversWholeFile)
            result.checks.insert(.init("coverage", coverage.coversWholeFile ? .passed : .warning, coverage.message), at: 0)
            result.decide()
            signatures.append(result)
        }
        if fields.isEmpty { notes.append("PDF không có trường chữ ký đã ký / the PDF has no signed signature field") }
        return DocumentVerification(file: path, kind: "PDF", trustAnchorsGiven: trustRoots != nil, signatures: signatures, notes: notes)
    }

    /// The excluded gap must be exactly the hex string `<…>` of /Contents, or other bytes could
    /// hide there unsigned.
    static func gapIsTheContentsString(_ source: PDFByteSource, _ coverage: PDFSignatureCoverage) throws -> Bool {
        let first = try source.read(at: coverage.gap.lowerBound, count: 1)
        let last = try source.read(at: coverage.gap.upperBound - 1, count: 1)
        return first == [UInt8(ascii: "<")] && last == [UInt8(ascii: ">")]
    }

    /// Hashes `ranges` of a file (the whole file when nil) in 64 KB reads.
    static func hashFile(_ path: String, ranges: [Range<Int>]?, _ digest: VerificationDigest) throws -> [UInt8] {
        let source = try PDFFileSource(path: path)
        var hasher = digest.hasher()
        for range in ranges ?? [0..<source.count] {
            var offset = range.lowerBound
            while offset < range.upperBound {
                let count = min(readChunk, range.upperBound - offset)
                let bytes = try source.read(at: offset, count: count)
                guard bytes.count == count else { throw Failure.unreadable(path, "short read at \(offset)") }
                hasher.update(bytes)
                offset += count
            }
        }
        return hasher.finalize()
    }

    /// The offsets just after each `%%EOF` marker (the end of each revision), streamed.
    static func endOfFileMarkers(_ source: PDFByteSource) throws -> [Int] {
        let marker = Array("%%EOF".utf8)
        var ends: [Int] = []
        var offset = 0
        var carry: [UInt8] = []
        while offset < source.count {
            let chunk = try source.read(at: offset, count: min(readChunk, source.count - offset))
            let window = carry + chunk
            let windowStart = offset - carry.count
            ends.append(contentsOf: PDFSignatureCoverage.markerEnds(in: window, marker: marker).map { $0 + windowStart })
            carry = Array(window.suffix(marker.count - 1))
            offset += chunk.count
        }
        return ends
    }
}

/// What part of a PDF a signature's /ByteRange covers. Pure.
struct PDFSignatureCoverage {
    let signedEnd: Int
    let gap: Range<Int>
    let fileSize: Int
    /// 1-based; the revision whose `%%EOF` ends at (or just before) the signed end.
    let revision: Int
    let totalRevisions: Int

    var coversWholeFile: Bool { signedEnd == fileSize }

    /// `[0 a b c]` with a first range from 0, a gap between, the second range inside the file.
    init?(byteRange: [Int], fileSize: Int, revisionEnds: [Int]) {
        guard byteRange.count == 4, byteRange[0] == 0, byteRange.allSatisfy({ $0 >= 0 }),
              byteRange[1] < byteRange[2], byteRange[2] + byteRange[3] <= fileSize, byteRange[2] - byteRange[1] >= 2 else { return nil }
        let signedEnd = byteRange[2] + byteRange[3]
        self.signedEnd = signedEnd
        gap = byteRange[1]..<byteRange[2]
        self.fileSize = fileSize
        // A revision ends with %%EOF and its end of line, which the signature may or may not cover.
        revision = max(1, revisionEnds.filter { $0 <= signedEnd }.count)
        totalRevisions = max(revision, revisionEnds.count)
    }

    var message: String {
        if coversWholeFile {
            return "chữ ký bao phủ toàn bộ tệp (phiên bản \(revision)/\(totalRevisions)) / the signature covers the whole file (revision \(revision) of \(totalRevisions))"
        }
        let later = fileSize - signedEnd
        return "chữ ký bao phủ phiên bản \(revision)/\(totalRevisions); có thay đổi sau khi ký (\(later) byte thêm vào) / "
            + "the signature covers revision \(revision) of \(totalRevisions); later changes exist (\(later) bytes appended)"
    }

    static func markerEnds(in bytes: [UInt8], marker: [UInt8]) -> [Int] {
        guard bytes.count >= marker.count else { return [] }
        var ends: [Int] = []
        for start in 0...(bytes.count - marker.count) where bytes[start] == marker[0] {
            if bytes[start..<(start + marker.count)].elementsEqual(marker) { ends.append(start + marker.count) }
        }
        return ends
    }
}

/// PDF dates (ISO 32000-1 §7.9.4): `D:YYYYMMDDHHmmSSOHH'mm'`, every part after the year optional.
enum PDFDate {
    static func parse(_ text: String) -> Date? {
        var characters = Array(text.hasPrefix("D:") ? text.dropFirst(2) : Substring(text))
        func number(_ digits: Int, default value: Int) -> Int? {
            guard characters.count >= digits, characters.prefix(digits).allSatisfy(\.isNumber) else { return characters.isEmpty || !characters[0].isNumber ? value : nil }
            let result = Int(String(characters.prefix(digits)))
            characters.removeFirst(digits)
            return result
        }
        guard let year = number(4, default: -1), year >= 0, let month = number(2, default: 1), let day = number(2, default: 1),
              let hour = number(2, default: 0), let minute = number(2, default: 0), let second = number(2, default: 0) else { return nil }
        var offset = 0
        if let sign = characters.first, sign == "+" || sign == "-" {
            characters.removeFirst()
            let hours = number(2, default: 0) ?? 0
            if characters.first == "'" { characters.removeFirst() }
            let minutes = number(2, default: 0) ?? 0
            offset = (hours * 3600 + minutes * 60) * (sign == "-" ? -1 : 1)
        }
        var components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        components.timeZone = TimeZone(secondsFromGMT: offset)
        return Calendar(identifier: .gregorian).date(from: components)
    }
}
