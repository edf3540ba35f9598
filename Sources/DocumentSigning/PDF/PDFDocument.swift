/// A PDF opened for reading: its revisions' cross-reference, its trailer, and objects resolved on
/// demand from a `PDFByteSource`. Only windows of the file are read, never the whole of it; object
/// and cross-reference streams are inflated under a ceiling; every walk (references, page tree,
/// form fields, /Prev chain) refuses loops and stops at a limit, so hostile input ends in a
/// `PDFError` in bounded time and memory.
package final class PDFDocument {
    package let source: PDFByteSource
    /// The version in the header (`1.7` of `%PDF-1.7`).
    package let headerVersion: String
    /// Where `startxref` points: the newest cross-reference section (the /Prev of our update).
    package let startxref: Int
    private(set) var crossReference: PDFCrossReference
    /// The newest trailer (for a stream section, the stream's dictionary), with /Root, /Info, /ID
    /// and /Encrypt taken from an older one when the newest leaves them out.
    package private(set) var trailer = PDFDictionary()

    static let initialWindow = 16_384
    static let maximumWindow = 64 << 20
    /// Ceiling on an inflated object or cross-reference stream.
    static let maximumDecodedStream = 64 << 20
    static let maximumResolveDepth = 32
    static let maximumCachedObjects = 4_096

    private var objectCache: [PDFReference: PDFObject] = [:]
    private struct ObjectStream {
        var first: Int
        var offsets: [(number: Int, offset: Int)]
        var data: [UInt8]
    }
    private var objectStreamCache: [Int: ObjectStream] = [:]
    /// Objects being resolved right now: meeting one again is a reference cycle.
    private var resolving: Set<Int> = []

    package convenience init(path: String) throws {
        try self.init(source: PDFFileSource(path: path))
    }

    package init(source: PDFByteSource) throws {
        self.source = source
        let head = try source.read(at: 0, count: 1024)
        guard let header = ByteSearch.first(Array("%PDF-".utf8), in: head) else { throw PDFError.notPDF }
        headerVersion = String(decoding: head[header.upperBound...].prefix { $0 == UInt8(ascii: ".") || (0x30...0x39).contains($0) }, as: UTF8.self)
        startxref = try Self.findStartxref(source)
        crossReference = PDFCrossReference(newestOffset: startxref)
        let read = try PDFCrossReference.read(from: self, startxref: startxref)
        crossReference = read
        var newest = read.trailers.first ?? PDFDictionary()
        for older in read.trailers.dropFirst() {
            for key: PDFName in ["Root", "Info", "ID", "Encrypt"] where newest[key] == nil { newest[key] = older[key] }
        }
        trailer = newest
    }

    /// The style of the newest cross-reference section (an update is written the same way).
    var crossReferenceStyle: PDFCrossReference.Style { crossReference.newestStyle }
    /// One more than the largest object number any revision uses.
    package var objectCount: Int { crossReference.size }
    package var isEncrypted: Bool { trailer["Encrypt"] != nil }

    /// The last `startxref` in the file, searched from the end (junk after `%%EOF` is common:
    /// mail gateways and download scripts append some) in growing windows up to 1 MB.
    static func findStartxref(_ source: PDFByteSource) throws -> Int {
        var window = 1024
        let keyword = Array("startxref".utf8)
        while true {
            let start = max(0, source.count - window)
            let tail = try source.read(at: start, count: source.count - start)
            if let found = ByteSearch.last(keyword, in: tail) {
                var parser = PDFParser(bytes: tail + [0x0A], base: start, position: found.upperBound)
                guard case .integer(let offset)? = try? parser.nextToken(), offset >= 0, offset < source.count else {
                    throw PDFError.badCrossReference(offset: start + found.lowerBound, reason: "startxref is not followed by an offset inside the file")
                }
                return offset
            }
            if start == 0 || window >= 1 << 20 { throw PDFError.noStartXref }
            window *= 8
        }
    }

    /// Runs `body` on a parser over the file from `offset`; when the parser runs off the end of
    /// the window before the file's end, reads a window four times larger and starts again.
    func withWindow<T>(at offset: Int, _ body: (inout PDFParser) throws -> T) throws -> T {
        var size = Self.initialWindow
        while true {
            let bytes = try source.read(at: offset, count: size)
            var parser = PDFParser(bytes: bytes, base: offset)
            do {
                return try body(&parser)
            } catch PDFError.truncated(let at) {
                let windowEnd = offset + bytes.count
                guard at >= windowEnd, windowEnd < source.count else { throw PDFError.truncated(offset: at) }
                guard size < Self.maximumWindow else {
                    throw PDFError.limitExceeded("an object or cross-reference table larger than \(Self.maximumWindow >> 20) MB at byte \(offset)")
                }
                size *= 4
            }
        }
    }

    // MARK: Objects

    /// The object `reference` names; a reference to a free or absent object is null (§7.3.10).
    /// A reference to a reference is followed, within a depth limit.
    package func resolve(_ reference: PDFReference) throws -> PDFObject {
        var current = reference
        for _ in 0..<Self.maximumResolveDepth {
            let object = try object(current)
            guard case .reference(let next) = object else { return object }
            current = next
        }
        throw PDFError.referenceCycle(number: reference.number)
    }

    /// `object` itself, or what it refers to.
    package func resolve(_ object: PDFObject?) throws -> PDFObject {
        guard let object else { return .null }
        if case .reference(let reference) = object { return try resolve(reference) }
        return object
    }

    /// A dictionary (direct or referred to), or nil when the value is something else.
    package func dictionary(_ object: PDFObject?) throws -> PDFDictionary? {
        try resolve(object).dictionaryValue
    }

    func object(_ reference: PDFReference) throws -> PDFObject {
        if let cached = objectCache[reference] { return cached }
        guard resolving.insert(reference.number).inserted else { throw PDFError.referenceCycle(number: reference.number) }
        defer { resolving.remove(reference.number) }
        let object: PDFObject
        switch crossReference.entries[reference.number] {
        case nil, .free?:
            object = .null
        case .inFile(let offset, let generation)?:
            guard generation == reference.generation else { return .null }
            object = try parseIndirectObject(at: offset, expected: reference).object
        case .inObjectStream(let stream, let index)?:
            guard reference.generation == 0 else { return .null }
            object = try objectFromStream(stream, index: index, number: reference.number)
        }
        if objectCache.count >= Self.maximumCachedObjects { objectCache.removeAll(keepingCapacity: true) }
        objectCache[reference] = object
        return object
    }

    /// `N G obj … endobj` at `offset`. A stream's /Length may be an indirect object; when it is
    /// missing or wrong (not followed by `endstream`), the data runs to the next `endstream`.
    func parseIndirectObject(at offset: Int, expected: PDFReference?) throws -> (reference: PDFReference, object: PDFObject) {
        guard offset >= 0, offset < source.count else {
            throw PDFError.objectNotFound(number: expected?.number ?? -1, generation: expected?.generation ?? 0)
        }
        let (reference, value, streamStart) = try withWindow(at: offset) { parser -> (PDFReference, PDFObject, Int?) in
            let header: PDFReference
            do { header = try parser.indirectObjectHeader() } catch PDFError.syntax {
                if let expected { throw PDFError.objectNotFound(number: expected.number, generation: expected.generation) }
                throw PDFError.syntax(offset: offset, reason: "expected 'N G obj'")
            }
            if let expected, header != expected { throw PDFError.objectNotFound(number: expected.number, generation: expected.generation) }
            let value = try parser.parseObject()
            if case .dictionary = value { return (header, value, try parser.streamDataStart()) }
            return (header, value, nil)
        }
        guard let streamStart, case .dictionary(let dictionary) = value else { return (reference, value) }
        let length = try streamLength(dictionary: dictionary, dataStart: streamStart, number: reference.number)
        return (reference, .stream(PDFStream(dictionary: dictionary, dataOffset: streamStart, dataLength: length)))
    }

    private func streamLength(dictionary: PDFDictionary, dataStart: Int, number: Int) throws -> Int {
        var declared: Int?
        switch dictionary["Length"] {
        case .integer(let value)?: declared = value
        case .reference(let reference)?:
            // Resolved through `object`, so a /Length that refers back to its stream is a cycle.
            declared = try resolve(reference).integerValue
        default: declared = nil
        }
        if let declared, declared >= 0, dataStart + declared <= source.count {
            let after = try source.read(at: dataStart + declared, count: 32)
            var parser = PDFParser(bytes: after + [0x20])
            parser.skipWhitespaceAndComments()
            if after[min(parser.position, after.count)...].starts(with: "endstream".utf8) { return declared }
        }
        return try searchEndstream(from: dataStart, number: number)
    }

    /// The data's length when /Length cannot be trusted: up to the next `endstream`, less the end
    /// of line before it. Searched in 64 KB steps, so a missing keyword costs a scan, not memory.
    private func searchEndstream(from start: Int, number: Int) throws -> Int {
        let keyword = Array("endstream".utf8)
        var offset = start
        while offset < source.count {
            let chunk = try source.read(at: offset, count: 65_536 + keyword.count)
            if let found = ByteSearch.first(keyword, in: chunk) {
                var end = offset + found.lowerBound
                let before = try source.read(at: max(start, end - 2), count: min(2, end - start))
                if before.last == 0x0A { end -= 1; if before.count == 2, before.first == 0x0D { end -= 1 } } else if before.last == 0x0D { end -= 1 }
                return max(0, end - start)
            }
            if chunk.count <= keyword.count { break }
            offset += chunk.count - keyword.count
        }
        throw PDFError.syntax(offset: start, reason: "stream of object \(number) has no valid /Length and no 'endstream'")
    }

    /// A stream's data after its filters, read and inflated under `limit`.
    func decodedData(of stream: PDFStream, objectNumber: Int?, limit: Int = maximumDecodedStream) throws -> [UInt8] {
        guard stream.dataLength <= Self.maximumDecodedStream else {
            throw PDFError.limitExceeded("a structural stream of \(stream.dataLength) bytes (object \(objectNumber.map(String.init) ?? "?"))")
        }
        let raw = try source.read(at: stream.dataOffset, count: stream.dataLength)
        guard raw.count == stream.dataLength else { throw PDFError.truncated(offset: stream.dataOffset + raw.count) }
        return try PDFFilters.decode(raw, dictionary: stream.dictionary, limit: limit, objectNumber: objectNumber)
    }

    /// An object from an object stream (§7.5.7): `N` pairs of object number and offset, then the
    /// objects from /First.
    private func objectFromStream(_ streamNumber: Int, index: Int, number: Int) throws -> PDFObject {
        let stream = try loadObjectStream(streamNumber)
        // The index in the cross-reference is a hint; the stream's own table says which is which.
        let slot: (number: Int, offset: Int)
        if index >= 0, index < stream.offsets.count, stream.offsets[index].number == number {
            slot = stream.offsets[index]
        } else if let found = stream.offsets.first(where: { $0.number == number }) {
            slot = found
        } else {
            throw PDFError.objectNotFound(number: number, generation: 0)
        }
        let start = stream.first + slot.offset
        guard start >= 0, start < stream.data.count else {
            throw PDFError.syntax(offset: 0, reason: "object \(number) lies outside object stream \(streamNumber)")
        }
        var parser = PDFParser(bytes: stream.data + [0x0A], base: 0, position: start)
        do { return try parser.parseObject() } catch PDFError.truncated {
            throw PDFError.syntax(offset: 0, reason: "object \(number) runs past the end of object stream \(streamNumber)")
        } catch PDFError.syntax(_, let reason) {
            throw PDFError.syntax(offset: 0, reason: "in object stream \(streamNumber): \(reason)")
        }
    }

    private func loadObjectStream(_ number: Int) throws -> ObjectStream {
        if let cached = objectStreamCache[number] { return cached }
        guard case .inFile(let offset, _)? = crossReference.entries[number] else {
            throw PDFError.structure("object stream \(number) is not an object stored in the file")
        }
        guard resolving.insert(-1 - number).inserted else { throw PDFError.referenceCycle(number: number) }
        defer { resolving.remove(-1 - number) }
        let (_, object) = try parseIndirectObject(at: offset, expected: nil)
        guard case .stream(let stream) = object, stream.dictionary["Type"]?.nameValue == "ObjStm",
              let count = stream.dictionary["N"]?.integerValue, let first = stream.dictionary["First"]?.integerValue,
              count >= 0, count <= 1_000_000, first >= 0 else {
            throw PDFError.structure("object \(number) is not an object stream (/Type /ObjStm with /N and /First)")
        }
        let data = try decodedData(of: stream, objectNumber: number)
        guard first <= data.count else { throw PDFError.syntax(offset: 0, reason: "object stream \(number): /First past its data") }
        var parser = PDFParser(bytes: Array(data[..<first]) + [0x0A])
        var offsets: [(number: Int, offset: Int)] = []
        offsets.reserveCapacity(min(count, data.count / 4))
        for _ in 0..<count {
            guard case .integer(let objectNumber)? = try? parser.nextToken(), case .integer(let objectOffset)? = try? parser.nextToken(),
                  objectOffset >= 0 else {
                throw PDFError.syntax(offset: 0, reason: "object stream \(number): its table of \(count) objects is short or wrong")
            }
            offsets.append((objectNumber, objectOffset))
        }
        let loaded = ObjectStream(first: first, offsets: offsets, data: data)
        // A few streams at a time: pages and fields usually sit in the same one or two.
        if objectStreamCache.count >= 4 { objectStreamCache.removeAll() }
        objectStreamCache[number] = loaded
        return loaded
    }
}
