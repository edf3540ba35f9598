import Foundation

/// The bytes of the incremental update that adds one signature to a document (ISO 32000-1 §7.5.6,
/// §12.7.4.5, §12.8; ETSI EN 319 142-1 PAdES B-B): the signature dictionary with its /ByteRange and
/// /Contents placeholders, the signature field merged with its widget on the chosen page, the
/// objects that must change to reach them (the page or its /Annots array, the /AcroForm or its
/// /Fields array, the catalog when the form is new or direct), and a cross-reference section of
/// the same kind as the file's last one. Pure: the document is read, nothing is written.
struct PDFSignatureUpdate {
    struct Appearance {
        /// [x, y, width, height] in the page's default user space (points, origin bottom left).
        var rectangle: [Double]
        var lines: [String]
    }

    struct Request {
        var pageNumber = 1
        /// nil: an invisible signature (a zero rectangle, as PAdES and Acrobat read it).
        var appearance: Appearance?
        /// A Decree 30 appearance (images, embedded font); takes the place of `appearance`.
        var signatureAppearance: SignatureAppearance?
        /// `D:20261121091502+07'00'`.
        var signingTime: String
        var reason: String?
        var location: String?
        /// Bytes of DER the /Contents placeholder holds (it is written as twice as many hex digits).
        var reservedSignatureBytes: Int
        /// The second half of the new /ID (the first stays the document's): 16 bytes.
        var idSuffix: [UInt8]
    }

    /// The update, and where its placeholders are (offsets inside `bytes`).
    var bytes: [UInt8] = []
    /// `<` of the /Contents hex string up to and including its `>`.
    var contentsRange: Range<Int> = 0..<0
    /// The `[ … ]` of /ByteRange, spaces inside to be filled.
    var byteRangeRange: Range<Int> = 0..<0
    var fieldName = ""

    /// Width of each number in the /ByteRange placeholder: enough for files up to 10 GB.
    static let byteRangeDigits = 10

    /// `fileLength`: the length of the file the update is appended to (its offsets start there).
    init(document: PDFDocument, request: Request, fileLength: Int) throws {
        guard !document.isEncrypted else { throw PDFError.encrypted }
        let catalogReference = try document.catalogReference
        var catalog = try document.catalog()
        // A certification signature that allows no changes: adding ours would invalidate it.
        if let permissions = try document.dictionary(catalog["Perms"]), let docMDP = try document.dictionary(permissions["DocMDP"]) {
            for reference in try document.resolve(docMDP["Reference"]).arrayValue ?? [] {
                if let parameters = try document.dictionary(try document.dictionary(reference)?["TransformParams"]),
                   parameters["P"]?.integerValue == 1 {
                    throw PDFError.certifiedWithoutChanges
                }
            }
        }
        // A seal finds its page and box from the earlier signature; text without a box goes to
        // the top right of its page.
        let placement = try request.signatureAppearance?.place(in: document, pageNumber: request.pageNumber)
        let page = try document.page(placement?.pageNumber ?? request.pageNumber)
        let fields = try document.formFields()
        var nextNumber = document.objectCount
        func newReference() -> PDFReference {
            defer { nextNumber += 1 }
            return PDFReference(nextNumber)
        }
        var objects: [(PDFReference, [UInt8])] = []

        var ordinal = fields.signatures.count + 1
        while fields.names.contains("Signature\(ordinal)") { ordinal += 1 }
        fieldName = "Signature\(ordinal)"

        let signatureReference = newReference()
        let widgetReference = newReference()

        // The signature dictionary, its placeholders remembered by position.
        var signature: [UInt8] = []
        signature += "<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached".utf8
        signature += "/M".utf8
        PDFSerializer.write(.string(Array(request.signingTime.utf8), hex: false), to: &signature)
        if let reason = request.reason {
            signature += "/Reason".utf8
            PDFSerializer.write(.string(PDFText.encode(reason), hex: true), to: &signature)
        }
        if let location = request.location {
            signature += "/Location".utf8
            PDFSerializer.write(.string(PDFText.encode(location), hex: true), to: &signature)
        }
        signature += "/ByteRange".utf8
        let byteRangeStart = signature.count
        signature += "[0 ".utf8 + [UInt8](repeating: 0x20, count: 3 * Self.byteRangeDigits + 2) + "]".utf8
        let byteRangeEnd = signature.count
        signature += "/Contents".utf8
        let contentsStart = signature.count
        signature += "<".utf8 + [UInt8](repeating: UInt8(ascii: "0"), count: 2 * request.reservedSignatureBytes) + ">".utf8
        let contentsEnd = signature.count
        signature += ">>".utf8

        // The field and its widget in one dictionary (§12.7.3.1 allows the merge).
        var widget = PDFDictionary([
            ("Type", .name("Annot")), ("Subtype", .name("Widget")), ("FT", .name("Sig")),
            ("T", .string(PDFText.encode(fieldName), hex: false)), ("V", .reference(signatureReference)),
            ("P", .reference(page.reference)),
        ])
        if let appearance = request.signatureAppearance, let placement {
            let rectangle = placement.rectangle
            let formReference = newReference()
            let parts = try appearance.objects(width: rectangle[2], height: rectangle[3], allocate: newReference)
            objects += parts.others
            objects.append((formReference, parts.form))
            widget["Rect"] = .array([Self.number(rectangle[0]), Self.number(rectangle[1]),
                                     Self.number(rectangle[0] + rectangle[2]), Self.number(rectangle[1] + rectangle[3])])
            widget["F"] = .integer(4 | 128)  // Print, Locked
            widget["AP"] = .dictionary(PDFDictionary([("N", .reference(formReference))]))
        } else if let appearance = request.appearance {
            let rectangle = appearance.rectangle
            let width = rectangle[2], height = rectangle[3]
            let fontReference = newReference()
            let formReference = newReference()
            objects.append((fontReference, PDFSerializer.bytes(.dictionary(PDFDictionary([
                ("Type", .name("Font")), ("Subtype", .name("Type1")), ("BaseFont", .name("Helvetica")),
                ("Encoding", .name("WinAnsiEncoding")),
            ])))))
            let content = Self.appearanceContent(lines: appearance.lines, width: width, height: height)
            var form: [UInt8] = []
            PDFSerializer.write(PDFDictionary([
                ("Type", .name("XObject")), ("Subtype", .name("Form")),
                ("BBox", .array([.integer(0), .integer(0), Self.number(width), Self.number(height)])),
                ("Resources", .dictionary(PDFDictionary([("Font", .dictionary(PDFDictionary([("F1", .reference(fontReference))])))]))),
                ("Length", .integer(content.count)),
            ]), to: &form)
            form += "\nstream\n".utf8 + content + "\nendstream".utf8
            objects.append((formReference, form))
            widget["Rect"] = .array([Self.number(rectangle[0]), Self.number(rectangle[1]),
                                     Self.number(rectangle[0] + width), Self.number(rectangle[1] + height)])
            widget["F"] = .integer(4 | 128)  // Print, Locked
            widget["AP"] = .dictionary(PDFDictionary([("N", .reference(formReference))]))
        } else {
            widget["Rect"] = .array([.integer(0), .integer(0), .integer(0), .integer(0)])
            widget["F"] = .integer(4 | 128)  // Print, Locked (as Acrobat writes an invisible one; Hidden is not PDF/A)
        }
        objects.append((signatureReference, signature))
        objects.append((widgetReference, PDFSerializer.bytes(.dictionary(widget))))

        // The page's /Annots gains the widget: the array object is rewritten when it is one of
        // its own, else the page (a smaller change for validators that compare revisions).
        switch page.dictionary["Annots"] {
        case .reference(let annotsReference)?:
            let existing = try document.resolve(annotsReference).arrayValue ?? []
            objects.append((annotsReference, PDFSerializer.bytes(.array(existing + [.reference(widgetReference)]))))
        case .array(let existing)?:
            var updated = page.dictionary
            updated["Annots"] = .array(existing + [.reference(widgetReference)])
            objects.append((page.reference, PDFSerializer.bytes(.dictionary(updated))))
        default:
            var updated = page.dictionary
            updated["Annots"] = .array([.reference(widgetReference)])
            objects.append((page.reference, PDFSerializer.bytes(.dictionary(updated))))
        }

        // The form gains the field, and /SigFlags 3 (SignaturesExist, AppendOnly: §12.7.2).
        if let (formDictionary, formReference) = try document.acroForm() {
            var form = formDictionary
            let flags = (form["SigFlags"]?.integerValue ?? 0) | 3
            form["SigFlags"] = .integer(flags)
            if case .reference(let fieldsReference)? = form["Fields"], let existing = try document.resolve(fieldsReference).arrayValue {
                objects.append((fieldsReference, PDFSerializer.bytes(.array(existing + [.reference(widgetReference)]))))
            } else {
                let existing = try document.resolve(form["Fields"]).arrayValue ?? []
                form["Fields"] = .array(existing + [.reference(widgetReference)])
            }
            if form != formDictionary {
                if let formReference {
                    objects.append((formReference, PDFSerializer.bytes(.dictionary(form))))
                } else {
                    catalog["AcroForm"] = .dictionary(form)
                    objects.append((catalogReference, PDFSerializer.bytes(.dictionary(catalog))))
                }
            }
        } else {
            let formReference = newReference()
            objects.append((formReference, PDFSerializer.bytes(.dictionary(PDFDictionary([
                ("Fields", .array([.reference(widgetReference)])), ("SigFlags", .integer(3)),
            ])))))
            catalog["AcroForm"] = .reference(formReference)
            objects.append((catalogReference, PDFSerializer.bytes(.dictionary(catalog))))
        }

        // The objects, each remembered by offset for the cross-reference.
        var update: [UInt8] = []
        var offsets: [(PDFReference, Int)] = []
        for (reference, body) in objects {
            offsets.append((reference, fileLength + update.count))
            update += "\(reference.number) \(reference.generation) obj\n".utf8
            if reference == signatureReference {
                byteRangeRange = update.count + byteRangeStart..<update.count + byteRangeEnd
                contentsRange = update.count + contentsStart..<update.count + contentsEnd
            }
            update += body
            update += "\nendobj\n".utf8
        }

        // The trailer's entries carried over; /ID keeps its first half (the document's identity).
        var trailer = PDFDictionary()
        trailer["Root"] = .reference(catalogReference)
        if let info = document.trailer["Info"] { trailer["Info"] = info }
        let firstID = document.trailer["ID"]?.arrayValue?.first?.stringBytes ?? request.idSuffix
        trailer["ID"] = .array([.string(firstID, hex: true), .string(request.idSuffix, hex: true)])
        trailer["Prev"] = .integer(document.startxref)

        switch document.crossReferenceStyle {
        case .table:
            trailer["Size"] = .integer(nextNumber)
            let sectionOffset = fileLength + update.count
            update += "xref\n".utf8
            let sorted = offsets.sorted { $0.0.number < $1.0.number }
            var index = 0
            while index < sorted.count {
                var end = index + 1
                while end < sorted.count, sorted[end].0.number == sorted[end - 1].0.number + 1 { end += 1 }
                update += "\(sorted[index].0.number) \(end - index)\n".utf8
                for (reference, offset) in sorted[index..<end] {
                    update += (Self.padded(offset, 10) + " " + Self.padded(reference.generation, 5) + " n\r\n").utf8
                }
                index = end
            }
            // `Size` ahead of the rest reads better; the order is not significant.
            var ordered = PDFDictionary([("Size", trailer["Size"]!)])
            for (key, value) in trailer.entries where key != "Size" { ordered[key] = value }
            update += "trailer\n".utf8 + PDFSerializer.bytes(.dictionary(ordered)) + "\n".utf8
            update += "startxref\n\(sectionOffset)\n%%EOF\n".utf8
        case .stream:
            // An uncompressed cross-reference stream: rows of type (1 byte), offset, generation.
            let streamReference = newReference()
            let sectionOffset = fileLength + update.count
            offsets.append((streamReference, sectionOffset))
            let sorted = offsets.sorted { $0.0.number < $1.0.number }
            let offsetWidth = max(4, (String(sectionOffset, radix: 16).count + 1) / 2)
            var rows: [UInt8] = []
            var index: [PDFObject] = []
            var run = 0
            while run < sorted.count {
                var end = run + 1
                while end < sorted.count, sorted[end].0.number == sorted[end - 1].0.number + 1 { end += 1 }
                index += [.integer(sorted[run].0.number), .integer(end - run)]
                for (reference, offset) in sorted[run..<end] {
                    rows.append(1)
                    for shift in stride(from: (offsetWidth - 1) * 8, through: 0, by: -8) { rows.append(UInt8(truncatingIfNeeded: offset >> shift)) }
                    rows += [UInt8(truncatingIfNeeded: reference.generation >> 8), UInt8(truncatingIfNeeded: reference.generation)]
                }
                run = end
            }
            var dictionary = PDFDictionary([("Type", .name("XRef")), ("Size", .integer(nextNumber))])
            for (key, value) in trailer.entries { dictionary[key] = value }
            dictionary["W"] = .array([.integer(1), .integer(offsetWidth), .integer(2)])
            dictionary["Index"] = .array(index)
            dictionary["Length"] = .integer(rows.count)
            update += "\(streamReference.number) 0 obj\n".utf8 + PDFSerializer.bytes(.dictionary(dictionary))
            update += "\nstream\n".utf8 + rows + "\nendstream\nendobj\n".utf8
            update += "startxref\n\(sectionOffset)\n%%EOF\n".utf8
        }
        bytes = update
    }

    static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Integers as integers, other values with at most 3 decimals (PDF readers want no exponent).
    static func number(_ value: Double) -> PDFObject {
        if value == value.rounded(), abs(value) < 1e9 { return .integer(Int(value)) }
        let thousandths = Int((value * 1000).rounded())
        let sign = thousandths < 0 ? "-" : ""
        let magnitude = abs(thousandths)
        return .real("\(sign)\(magnitude / 1000).\(padded(magnitude % 1000, 3))")
    }

    /// A thin frame and the lines of text, top down, in Helvetica sized to fit the box. The text
    /// is WinAnsi: letters outside it are written without their marks (see docs/pades.md — the
    /// Decree 30 appearance with an embedded Vietnamese font is a later step).
    static func appearanceContent(lines: [String], width: Double, height: Double) -> [UInt8] {
        let count = max(1, lines.count)
        let size = max(4, min(10, height / (Double(count) * 1.25 + 0.5)))
        func format(_ value: Double) -> String { PDFSerializer.bytes(number(value)).reduce(into: "") { $0.append(Character(Unicode.Scalar($1))) } }
        var content = "q 0 0 0 RG 0.5 w 0.25 0.25 \(format(max(0, width - 0.5))) \(format(max(0, height - 0.5))) re S Q\n"
        content += "BT /F1 \(format(size)) Tf 0 0 0 rg \(format(size * 1.25)) TL 3 \(format(height - size - 2)) Td\n"
        var bytes = Array(content.utf8)
        for line in lines {
            PDFSerializer.write(.string(winAnsi(line), hex: false), to: &bytes)
            bytes += " Tj T*\n".utf8
        }
        bytes += "ET".utf8
        return bytes
    }

    /// Latin-1 (which WinAnsi matches for these letters) with Vietnamese marks removed where the
    /// letter is not in it: `Nguyễn` → `Nguyen`, `đ` → `d`.
    static func winAnsi(_ text: String) -> [UInt8] {
        var output: [UInt8] = []
        for scalar in text.unicodeScalars {
            if scalar.value < 0x80 { output.append(UInt8(scalar.value)); continue }
            if scalar == "đ" { output.append(UInt8(ascii: "d")); continue }
            if scalar == "Đ" { output.append(UInt8(ascii: "D")); continue }
            // The first scalar of the canonical decomposition is the base letter.
            let base = String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars.first!
            output.append(base.value < 0x80 ? UInt8(base.value) : UInt8(ascii: "?"))
        }
        return output
    }
}
