import FoundationEssentials
import X509
#if canImport(Glibc)
import Glibc
#endif

/// One attachment of a received package, as read.
package struct ReceivedAttachment: Sendable, Codable, Equatable {
    package var info: AttachmentInfo
    package var size: Int64
    /// Hex SHA-256 of the decoded bytes.
    package var sha256: String
    /// Where `unpack` put it; nil when only read.
    package var path: String?
}

/// A package read from disk: the typed content, what breaks the rules, the attachments, and —
/// when asked — the signatures checked.
package struct ReadResult: Sendable {
    package var package: Package
    package var findings: [Finding]
    package var attachments: [ReceivedAttachment]
    /// Nil when signatures were not checked; empty when the package is unsigned.
    package var signatures: [SignatureCheck]?
}

package enum PackageReader {
    /// Reads `path`. With `unpackTo`, the attachments are decoded into that directory under their
    /// own names (made safe, never outside the directory, never overwriting); without, they are
    /// only counted and hashed. With `checkSignatures`, each `Signature` is verified, and its
    /// chain judged against `trustRoots` when given.
    package static func read(path: String, limits: ReadLimits = .init(), unpackTo directory: String? = nil,
                            checkSignatures: Bool = false, trustRoots: [Certificate]? = nil) async throws -> ReadResult {
        let output: SafeParser.AttachmentOutput = directory.map { .directory(URL(fileURLWithPath: $0)) } ?? .discard
        let parsed = try SafeParser.parse(path: path, limits: limits, output: output, keepAttachmentText: checkSignatures)
        return try await result(parsed, directory: directory, checkSignatures: checkSignatures, trustRoots: trustRoots)
    }

    /// The same from bytes in memory (tests, fuzzing, small status packages).
    package static func read(bytes: [UInt8], limits: ReadLimits = .init(), checkSignatures: Bool = false,
                            trustRoots: [Certificate]? = nil) async throws -> ReadResult {
        let parsed = try SafeParser.parse(bytes: bytes, limits: limits, output: .discard, keepAttachmentText: checkSignatures)
        return try await result(parsed, directory: nil, checkSignatures: checkSignatures, trustRoots: trustRoots)
    }

    /// Parsing without signatures, synchronously: what the fuzzer drives.
    package static func parse(bytes: [UInt8], limits: ReadLimits = .init()) throws -> (Package, [Finding]) {
        let parsed = try SafeParser.parse(bytes: bytes, limits: limits, output: .discard, keepAttachmentText: false)
        var parser = PackageParser(parsed: parsed)
        let package = try parser.parse()
        return (package, parser.findings)
    }

    private static func result(_ parsed: ParsedXML, directory: String?, checkSignatures: Bool, trustRoots: [Certificate]?) async throws -> ReadResult {
        var parser = PackageParser(parsed: parsed)
        let package: Package
        do { package = try parser.parse() } catch {
            removeParts(parsed)
            throw error
        }
        var attachments: [ReceivedAttachment] = []
        if case .document(let document) = package {
            var taken = Set<String>(["edxml.json"])
            for (info, index) in zip(document.attachments, parser.attachmentIndices) {
                let decoded = parsed.attachments[index]
                var finalPath: String?
                if let directory, let partPath = decoded.path {
                    let wanted = safeFileName(info.name, fallback: "attachment-\(index + 1)")
                    var target = directory + "/" + uniqueName(wanted, taken: &taken)
                    // link + unlink rather than rename: never replaces a file already there; a
                    // name already taken in the directory gets the next " (n)".
                    while link(partPath, target) != 0 {
                        guard errno == EEXIST else {
                            let reason = String(cString: strerror(errno))
                            removeParts(parsed)
                            throw EdXMLError.io(path: target, reason: reason)
                        }
                        target = directory + "/" + uniqueName(wanted, taken: &taken)
                    }
                    unlink(partPath)
                    finalPath = target
                }
                attachments.append(ReceivedAttachment(info: info, size: decoded.size,
                                                      sha256: decoded.sha256.map { hex($0) }.joined(), path: finalPath))
            }
        }
        removeParts(parsed)
        let signatures = checkSignatures ? await SignatureVerifier.verifyAll(parsed, trustRoots: trustRoots) : nil
        return ReadResult(package: package, findings: parser.findings, attachments: attachments, signatures: signatures)
    }

    /// Decoded parts nobody claimed (an attachment element outside the manifest's pairing).
    private static func removeParts(_ parsed: ParsedXML) {
        for attachment in parsed.attachments {
            if let path = attachment.path, access(path, F_OK) == 0 { unlink(path) }
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    /// A name that stays inside the directory: no separators, no `..`, no leading dot (hidden
    /// files), no control characters; Vietnamese letters kept; at most 200 bytes.
    static func safeFileName(_ name: String, fallback: String) -> String {
        var cleaned = String(String.UnicodeScalarView(name.unicodeScalars.map { scalar -> Unicode.Scalar in
            if scalar == "/" || scalar == "\\" || scalar.value < 0x20 || scalar.value == 0x7F { return "_" }
            return scalar
        }))
        while cleaned.hasPrefix(".") { cleaned.removeFirst() }
        cleaned = String(cleaned.drop(while: { $0 == " " }))
        while cleaned.utf8.count > 200 { cleaned.removeLast() }
        return cleaned.isEmpty ? fallback : cleaned
    }

    static func uniqueName(_ name: String, taken: inout Set<String>) -> String {
        var candidate = name
        var number = 2
        let dot = name.lastIndex(of: ".").flatMap { $0 == name.startIndex ? nil : $0 }
        let stem = dot.map { String(name[..<$0]) } ?? name
        let ext = dot.map { String(name[$0...]) } ?? ""
        while taken.contains(candidate) {
            candidate = "\(stem) (\(number))\(ext)"
            number += 1
        }
        taken.insert(candidate)
        return candidate
    }
}
