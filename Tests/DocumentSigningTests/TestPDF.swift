import Foundation

/// Small PDFs written byte by byte for the reader's tests — and, since they are real PDFs, signed
/// and checked by the independent validators too. Each layout a reader must handle is one switch:
/// a classic table or a cross-reference stream (with a PNG predictor and an object stream), a
/// hybrid file, CRLF line ends, junk after %%EOF.
struct TestPDF {
    enum Layout {
        case table
        /// A cross-reference stream (deflated, PNG "Up" predictor); objects in `compressed` go
        /// into an object stream.
        case stream(compressed: Set<Int>)
        /// A classic table with /XRefStm: the objects in `compressed` live in an object stream
        /// only the hidden stream lists (the table leaves them out).
        case hybrid(compressed: Set<Int>)
    }

    /// Object number → its body (`<< … >>`, or a dictionary and `stream … endstream`).
    var objects: [(Int, [UInt8])] = []
    var trailerExtra = ""
    var lineEnd = "\n"
    var junkAfterEOF: [UInt8] = []

    mutating func add(_ number: Int, _ body: String) { objects.append((number, Array(body.utf8))) }

    /// A stream object whose data is given (its /Length written from it).
    mutating func addStream(_ number: Int, _ dictionary: String, _ data: [UInt8]) {
        objects.append((number, Array("<<\(dictionary)/Length \(data.count)>>\(lineEnd)stream\(lineEnd)".utf8) + data + Array("\(lineEnd)endstream".utf8)))
    }

    /// A three-page document: the page tree's root carries the /MediaBox and /Resources every
    /// page inherits; page 2 is rotated; the form has a text field.
    static func threePages() -> TestPDF {
        var pdf = TestPDF()
        pdf.add(1, "<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[9 0 R]>>>>")
        pdf.add(2, "<</Type/Pages/Kids[3 0 R 10 0 R]/Count 3/MediaBox[0 0 595.28 841.89]/Resources<</Font<</F1 4 0 R>>>>>>")
        pdf.add(3, "<</Type/Page/Parent 2 0 R/Contents 5 0 R>>")
        pdf.add(4, "<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>")
        pdf.addStream(5, "", Array("BT /F1 18 Tf 72 760 Td (Quyet dinh so 123 trang mot) Tj ET".utf8))
        pdf.add(6, "<</Type/Page/Parent 10 0 R/Contents 7 0 R/Rotate 90>>")
        pdf.addStream(7, "", Array("BT /F1 18 Tf 72 760 Td (Trang hai) Tj ET".utf8))
        pdf.add(8, "<</Type/Page/Parent 10 0 R/Contents 11 0 R/Annots[9 0 R]>>")
        pdf.add(9, "<</FT/Tx/T(So van ban)/Type/Annot/Subtype/Widget/Rect[10 10 100 30]/P 8 0 R>>")
        pdf.add(10, "<</Type/Pages/Parent 2 0 R/Kids[6 0 R 8 0 R]/Count 2>>")
        pdf.addStream(11, "", Array("BT /F1 18 Tf 72 760 Td (Trang ba) Tj ET".utf8))
        return pdf
    }

    func bytes(_ layout: Layout = .table) -> [UInt8] {
        var output = Array("%PDF-1.7\(lineEnd)%\u{E2}\u{E3}\u{CF}\u{D3}\(lineEnd)".utf8)
        var offsets: [Int: Int] = [:]
        let compressed: Set<Int>
        switch layout {
        case .table: compressed = []
        case .stream(let set), .hybrid(let set): compressed = set
        }
        for (number, body) in objects where !compressed.contains(number) {
            offsets[number] = output.count
            output += Array("\(number) 0 obj\(lineEnd)".utf8) + body + Array("\(lineEnd)endobj\(lineEnd)".utf8)
        }
        let size = (objects.map(\.0).max() ?? 0) + 1
        var next = size
        // The object stream: "number offset" pairs, then the objects.
        var streamIndex: [Int: (stream: Int, index: Int)] = [:]
        if !compressed.isEmpty {
            let streamNumber = next
            next += 1
            var header = "", body: [UInt8] = []
            for (index, (number, object)) in objects.filter({ compressed.contains($0.0) }).enumerated() {
                header += "\(number) \(body.count) "
                body += object + Array(" ".utf8)
                streamIndex[number] = (streamNumber, index)
            }
            let data = zlibStored(Array(header.utf8) + body)
            offsets[streamNumber] = output.count
            output += Array("\(streamNumber) 0 obj\(lineEnd)<</Type/ObjStm/N \(streamIndex.count)/First \(header.utf8.count)/Filter/FlateDecode/Length \(data.count)>>\(lineEnd)stream\(lineEnd)".utf8)
            output += data + Array("\(lineEnd)endstream\(lineEnd)endobj\(lineEnd)".utf8)
        }
        let trailerCommon = "/Root 1 0 R/ID[<0123456789ABCDEF0123456789ABCDEF><0123456789ABCDEF0123456789ABCDEF>]\(trailerExtra)"
        func xrefStream(size: Int, number: Int, prev: String = "") -> Int {
            // Rows of type (1 byte), field 2 (4 bytes), field 3 (2 bytes), predicted "Up" by row.
            var rows: [[UInt8]] = []
            let at = output.count
            for object in 0..<size {
                if object == number {
                    rows.append([1] + be(at, 4) + [0, 0])
                } else if let (stream, index) = streamIndex[object] {
                    rows.append([2] + be(stream, 4) + be(index, 2))
                } else if let offset = offsets[object] {
                    rows.append([1] + be(offset, 4) + [0, 0])
                } else {
                    rows.append([0, 0, 0, 0, 0, 0xFF, 0xFF])
                }
            }
            var predicted: [UInt8] = []
            var previous = [UInt8](repeating: 0, count: 7)
            for row in rows {
                predicted.append(2)
                predicted += zip(row, previous).map { $0 &- $1 }
                previous = row
            }
            let data = zlibStored(predicted)
            output += Array("\(number) 0 obj\(lineEnd)<</Type/XRef/Size \(size)/W[1 4 2]/Index[0 \(size)]\(trailerCommon)\(prev)/Filter/FlateDecode/DecodeParms<</Predictor 12/Columns 7>>/Length \(data.count)>>\(lineEnd)stream\(lineEnd)".utf8)
            output += data + Array("\(lineEnd)endstream\(lineEnd)endobj\(lineEnd)".utf8)
            return at
        }
        let startxref: Int
        switch layout {
        case .stream:
            startxref = xrefStream(size: next + 1, number: next)
        case .table, .hybrid:
            var hidden = ""
            var tableSize = next
            if case .hybrid = layout {
                hidden = "/XRefStm \(xrefStream(size: next + 1, number: next))"
                tableSize = next + 1
            }
            startxref = output.count
            output += Array("xref\(lineEnd)".utf8)
            // Entries are 20 bytes: a two-byte end of line, or a space and one byte. In a hybrid
            // file the objects only the hidden stream lists are left out of the table (not marked
            // free: poppler would take free as the last word), so it has several subsections.
            let entryEnd = lineEnd == "\r\n" ? "\r\n" : " \n"
            let listed = (0..<tableSize).filter { streamIndex[$0] == nil && (hidden.isEmpty || $0 != next) }
            var run = 0
            while run < listed.count {
                var end = run + 1
                while end < listed.count, listed[end] == listed[end - 1] + 1 { end += 1 }
                output += Array("\(listed[run]) \(end - run)\(lineEnd)".utf8)
                for object in listed[run..<end] {
                    if let offset = offsets[object] {
                        output += Array("\(String(format: "%010d", offset)) 00000 n\(entryEnd)".utf8)
                    } else {
                        output += Array("0000000000 65535 f\(entryEnd)".utf8)
                    }
                }
                run = end
            }
            output += Array("trailer\(lineEnd)<</Size \(tableSize)\(trailerCommon)\(hidden)>>\(lineEnd)".utf8)
        }
        output += Array("startxref\(lineEnd)\(startxref)\(lineEnd)%%EOF\(lineEnd)".utf8) + junkAfterEOF
        return output
    }

    /// An incremental update of `original` replacing objects with classic-table sections.
    static func appendUpdate(to original: [UInt8], objects: [(Int, String)], prev: Int, size: Int, extra: String = "") -> [UInt8] {
        var output = original
        var offsets: [(Int, Int)] = []
        for (number, body) in objects {
            offsets.append((number, output.count))
            output += Array("\(number) 0 obj\n\(body)\nendobj\n".utf8)
        }
        let at = output.count
        output += Array("xref\n".utf8)
        for (number, offset) in offsets {
            output += Array("\(number) 1\n\(String(format: "%010d", offset)) 00000 n \n".utf8)
        }
        output += Array("trailer\n<</Size \(size)/Root 1 0 R/Prev \(prev)\(extra)>>\nstartxref\n\(at)\n%%EOF\n".utf8)
        return output
    }
}

func be(_ value: Int, _ width: Int) -> [UInt8] {
    (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * (width - 1 - $0))) }
}

/// A zlib stream (RFC 1950) of "stored" deflate blocks: valid input for any inflater, written
/// without a compressor, so the tests need no zlib of their own.
func zlibStored(_ data: [UInt8]) -> [UInt8] {
    var output: [UInt8] = [0x78, 0x01]
    var offset = 0
    repeat {
        let length = min(65_535, data.count - offset)
        let final: UInt8 = offset + length == data.count ? 1 : 0
        output += [final, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
        output += data[offset..<offset + length]
        offset += length
    } while offset < data.count
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in data {
        a = (a + UInt32(byte)) % 65_521
        b = (b + a) % 65_521
    }
    return output + be(Int(b << 16 | a), 4)
}

func startxref(of bytes: [UInt8]) -> Int {
    let text = String(decoding: bytes.suffix(64), as: UTF8.self)
    let parts = text.components(separatedBy: "startxref")
    return Int(parts.last!.trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: .whitespacesAndNewlines).first!)!
}
