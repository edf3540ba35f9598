/// Where each object lives, merged over all of a file's revisions (ISO 32000-1 §7.5.4, §7.5.6,
/// §7.5.8): the newest revision's entry for an object wins.
struct PDFCrossReference {
    enum Entry: Equatable {
        case free
        /// `offset` in the file, with the generation the object header must carry.
        case inFile(offset: Int, generation: Int)
        /// The `index`th object of the object stream `stream` (always generation 0).
        case inObjectStream(stream: Int, index: Int)
    }

    /// How a revision's cross-reference is written; an update we append uses the same kind as the
    /// file's last one, since a reader that handled the file handles that kind.
    enum Style: Equatable { case table, stream }

    private(set) var entries: [Int: Entry] = [:]
    /// Trailer dictionaries, newest first (for a stream section, the stream's dictionary).
    private(set) var trailers: [PDFDictionary] = []
    /// The kind of the newest section (the one `startxref` points to).
    private(set) var newestStyle: Style = .table
    /// Where the newest section starts: the /Prev of the update we append.
    let newestOffset: Int
    /// The largest object number in use + 1, over every revision (and /Size claims).
    private(set) var size = 0

    static let maximumSections = 10_000
    static let maximumObjectNumber = 8_388_607  // ISO 32000-1 Annex C's limit on indirect objects

    /// Adds a section's entries beneath what newer sections said.
    mutating func addOlder(_ sectionEntries: [(Int, Entry)]) {
        for (number, entry) in sectionEntries where entries[number] == nil {
            entries[number] = entry
            if entry != .free { size = max(size, number + 1) }
        }
    }

    init(newestOffset: Int) { self.newestOffset = newestOffset }

    /// Reads the chain of sections from `startxref` back through every /Prev (and each hybrid
    /// file's /XRefStm), refusing loops.
    static func read(from document: PDFDocument, startxref: Int) throws -> PDFCrossReference {
        var result = PDFCrossReference(newestOffset: startxref)
        var visited: Set<Int> = []
        var next: Int? = startxref
        var first = true
        while let offset = next {
            guard visited.insert(offset).inserted else { throw PDFError.referenceCycle(number: -offset) }
            guard visited.count <= maximumSections else { throw PDFError.limitExceeded("more than \(maximumSections) revisions") }
            guard offset >= 0, offset < document.source.count else {
                throw PDFError.badCrossReference(offset: offset, reason: "the offset lies outside the file (\(document.source.count) bytes)")
            }
            let section = try readSection(document, at: offset)
            if first { result.newestStyle = section.style; first = false }
            var sectionEntries = section.entries
            if let hidden = section.trailer["XRefStm"]?.integerValue, visited.insert(hidden).inserted {
                // A hybrid file (§7.5.8.4): the table's in-use entries first, then the hidden
                // stream's, then what the table marked free (it marks free what the stream holds).
                let stream = try readSection(document, at: hidden)
                guard stream.style == .stream else { throw PDFError.badCrossReference(offset: hidden, reason: "/XRefStm is not a cross-reference stream") }
                let inUse = sectionEntries.filter { $0.1 != .free }
                let free = sectionEntries.filter { $0.1 == .free }
                sectionEntries = inUse + stream.entries + free
            }
            result.addOlder(sectionEntries)
            result.trailers.append(section.trailer)
            if let declared = section.trailer["Size"]?.integerValue, declared > 0, declared <= maximumObjectNumber + 1 {
                result.size = max(result.size, declared)
            }
            next = section.trailer["Prev"]?.integerValue
        }
        return result
    }

    struct Section {
        var style: Style
        var entries: [(Int, Entry)]
        var trailer: PDFDictionary
    }

    static func readSection(_ document: PDFDocument, at offset: Int) throws -> Section {
        let head = try document.source.read(at: offset, count: 32)
        var probe = PDFParser(bytes: head, base: offset)
        probe.skipWhitespaceAndComments()
        if head[probe.position...].starts(with: "xref".utf8) {
            return try readTable(document, at: offset + probe.position)
        }
        return try readStream(document, at: offset)
    }

    /// `xref`, subsections `start count` of `offset generation n|f` lines, `trailer << … >>`.
    /// Read token by token rather than as 20-byte records: producers that write 19 or 21 bytes
    /// per line, or CR CR LF, are common enough.
    static func readTable(_ document: PDFDocument, at offset: Int) throws -> Section {
        try document.withWindow(at: offset) { parser in
            parser.position += 4  // "xref"
            var entries: [(Int, Entry)] = []
            while true {
                let token = try parser.nextToken()
                if token == .keyword("trailer") { break }
                guard case .integer(let start) = token, case .integer(let count) = try parser.nextToken(),
                      start >= 0, count >= 0, start + count <= maximumObjectNumber + 1 else {
                    throw PDFError.badCrossReference(offset: parser.fileOffset, reason: "a subsection header that is not 'start count'")
                }
                entries.reserveCapacity(entries.count + min(count, 100_000))
                for number in start..<start + count {
                    guard case .integer(let position) = try parser.nextToken(), case .integer(let generation) = try parser.nextToken(),
                          case .keyword(let kind) = try parser.nextToken(), kind == "n" || kind == "f" else {
                        throw PDFError.badCrossReference(offset: parser.fileOffset, reason: "an entry that is not 'offset generation n|f'")
                    }
                    // Object 0 is the head of the free list; `0 … n` entries are written by
                    // broken producers for objects that are not there: read as free.
                    let entry: Entry = kind == "n" && position > 0 ? .inFile(offset: position, generation: generation) : .free
                    entries.append((number, entry))
                }
            }
            guard case .dictionary(let trailer) = try parser.parseObject() else {
                throw PDFError.badCrossReference(offset: parser.fileOffset, reason: "no trailer dictionary")
            }
            return Section(style: .table, entries: entries, trailer: trailer)
        }
    }

    /// A cross-reference stream (§7.5.8): rows of /W-sized big-endian fields for the object
    /// numbers listed by /Index.
    static func readStream(_ document: PDFDocument, at offset: Int) throws -> Section {
        let (reference, object) = try document.parseIndirectObject(at: offset, expected: nil)
        guard case .stream(let stream) = object, stream.dictionary["Type"]?.nameValue == "XRef" else {
            throw PDFError.badCrossReference(offset: offset, reason: "neither 'xref' nor a cross-reference stream")
        }
        let dictionary = stream.dictionary
        guard let widths = dictionary["W"]?.arrayValue?.compactMap(\.integerValue), widths.count == 3,
              widths.allSatisfy({ (0...8).contains($0) }), widths[1] > 0 else {
            throw PDFError.badCrossReference(offset: offset, reason: "/W is not three field widths")
        }
        guard let size = dictionary["Size"]?.integerValue, (0...maximumObjectNumber + 1).contains(size) else {
            throw PDFError.badCrossReference(offset: offset, reason: "/Size missing or out of range")
        }
        var ranges: [(Int, Int)] = []
        if let index = dictionary["Index"]?.arrayValue {
            let numbers = index.compactMap(\.integerValue)
            guard numbers.count == index.count, numbers.count % 2 == 0 else {
                throw PDFError.badCrossReference(offset: offset, reason: "/Index is not pairs of integers")
            }
            for pair in stride(from: 0, to: numbers.count, by: 2) {
                guard numbers[pair] >= 0, numbers[pair + 1] >= 0, numbers[pair] + numbers[pair + 1] <= maximumObjectNumber + 1 else {
                    throw PDFError.badCrossReference(offset: offset, reason: "/Index out of range")
                }
                ranges.append((numbers[pair], numbers[pair + 1]))
            }
        } else {
            ranges = [(0, size)]
        }
        let rowLength = widths.reduce(0, +)
        let expectedRows = ranges.reduce(0) { $0 + $1.1 }
        let data = try document.decodedData(of: stream, objectNumber: reference.number, limit: min(expectedRows * rowLength + 1024, 256 << 20))
        var entries: [(Int, Entry)] = []
        entries.reserveCapacity(min(expectedRows, data.count / max(rowLength, 1)))
        var cursor = 0
        func field(_ width: Int, default value: Int) -> Int {
            guard width > 0 else { return value }
            var result = 0
            for _ in 0..<width {
                result = result << 8 | Int(data[cursor])
                cursor += 1
            }
            return result
        }
        outer: for (start, count) in ranges {
            for number in start..<start + count {
                // A stream shorter than its /Index says: the rows present are used (as readers do).
                guard cursor + rowLength <= data.count else { break outer }
                let type = field(widths[0], default: 1)
                let second = field(widths[1], default: 0)
                let third = field(widths[2], default: 0)
                switch type {
                case 0: entries.append((number, .free))
                case 1: entries.append((number, second > 0 ? .inFile(offset: second, generation: third) : .free))
                case 2: entries.append((number, .inObjectStream(stream: second, index: third)))
                default: entries.append((number, .free))  // §7.5.8.3: unknown types are references to null
                }
            }
        }
        return Section(style: .stream, entries: entries, trailer: dictionary)
    }
}
