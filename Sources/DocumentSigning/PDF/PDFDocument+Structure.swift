/// What signing needs to know of a document's structure (ISO 32000-1 §7.7, §12.7): the catalog,
/// page N of the page tree with its inherited attributes, the interactive form and the
/// signature fields already there.
extension PDFDocument {
    /// A page: the object to reference from a widget's /P and to rewrite with a new /Annots.
    package struct Page {
        package let reference: PDFReference
        package let dictionary: PDFDictionary
        /// /MediaBox, /CropBox, /Resources, /Rotate as inherited through the page tree (§7.7.3.4).
        package let inherited: PDFDictionary

        /// The visible area, [llx lly urx ury] (CropBox, else MediaBox, else US Letter).
        package var box: [Double] {
            for key: PDFName in ["CropBox", "MediaBox"] {
                if let numbers = inherited[key]?.arrayValue?.compactMap(\.numberValue), numbers.count == 4 { return numbers }
            }
            return [0, 0, 612, 792]
        }
        package var rotation: Int { ((inherited["Rotate"]?.integerValue ?? 0) % 360 + 360) % 360 }
    }

    /// A signature field found in /AcroForm /Fields.
    package struct SignatureField: Equatable {
        package let reference: PDFReference?
        /// The fully qualified field name (`parent.child`).
        package let name: String
        /// Whether it holds a signature (/V), or is an empty field waiting for one.
        package let isSigned: Bool
        /// /SubFilter of its signature dictionary (`ETSI.CAdES.detached`, `adbe.pkcs7.detached` …).
        package let subFilter: String?
    }

    static let maximumPages = 1_000_000
    static let maximumFields = 100_000
    static let maximumTreeDepth = 64

    package var catalogReference: PDFReference {
        get throws {
            guard let reference = trailer["Root"]?.referenceValue else { throw PDFError.structure("the trailer has no /Root (catalog)") }
            return reference
        }
    }

    package func catalog() throws -> PDFDictionary {
        guard let catalog = try dictionary(.reference(catalogReference)) else { throw PDFError.structure("the /Root object is not a dictionary") }
        return catalog
    }

    /// The number of pages, by walking the tree (the /Count of the root may lie).
    package func pageCount() throws -> Int {
        var count = 0
        try walkPages { _ in count += 1; return false }
        return count
    }

    /// Page `number` (1-based).
    package func page(_ number: Int) throws -> Page {
        guard number >= 1 else { throw PDFError.structure("page numbers start at 1") }
        var seen = 0
        var found: Page?
        try walkPages { page in
            seen += 1
            if seen == number { found = page; return true }
            return false
        }
        guard let found else {
            throw PDFError.structure("trang \(number) không có (tài liệu có \(seen) trang) / page \(number) does not exist (the document has \(seen))")
        }
        return found
    }

    /// Calls `visit` for each page in order until it answers true. Each node is visited once:
    /// a /Kids entry that leads back up the tree is a cycle.
    func walkPages(_ visit: (Page) throws -> Bool) throws {
        let catalog = try catalog()
        guard let root = catalog["Pages"]?.referenceValue else { throw PDFError.structure("the catalog has no /Pages reference") }
        var visited: Set<PDFReference> = []
        var pages = 0
        let inheritable: [PDFName] = ["Resources", "MediaBox", "CropBox", "Rotate"]

        func descend(_ reference: PDFReference, inherited: PDFDictionary, depth: Int) throws -> Bool {
            guard depth < Self.maximumTreeDepth else { throw PDFError.limitExceeded("a page tree deeper than \(Self.maximumTreeDepth)") }
            guard visited.insert(reference).inserted else { throw PDFError.referenceCycle(number: reference.number) }
            guard let node = try dictionary(.reference(reference)) else {
                throw PDFError.structure("page tree node \(reference) is not a dictionary")
            }
            var inherited = inherited
            for key in inheritable { if let value = node[key] { inherited[key] = value } }
            let type = node["Type"]?.nameValue
            if type == "Pages" || (type == nil && node["Kids"] != nil) {
                guard let kids = try resolve(node["Kids"]).arrayValue else { throw PDFError.structure("page tree node \(reference) has no /Kids array") }
                for kid in kids {
                    guard let kidReference = kid.referenceValue else { throw PDFError.structure("a /Kids entry of \(reference) is not a reference") }
                    if try descend(kidReference, inherited: inherited, depth: depth + 1) { return true }
                }
                return false
            }
            pages += 1
            guard pages <= Self.maximumPages else { throw PDFError.limitExceeded("more than \(Self.maximumPages) pages") }
            return try visit(Page(reference: reference, dictionary: node, inherited: inherited))
        }
        _ = try descend(root, inherited: PDFDictionary(), depth: 0)
    }

    /// The catalog's /AcroForm, resolved, and the reference it is stored under when indirect.
    package func acroForm() throws -> (dictionary: PDFDictionary, reference: PDFReference?)? {
        let catalog = try catalog()
        guard let value = catalog["AcroForm"] else { return nil }
        guard let form = try dictionary(value) else { return nil }
        return (form, value.referenceValue)
    }

    /// Every terminal field's qualified name (to choose a new, unique one) and the signature
    /// fields among them.
    package func formFields() throws -> (names: Set<String>, signatures: [SignatureField]) {
        guard let form = try acroForm()?.dictionary, let fields = try resolve(form["Fields"]).arrayValue else { return ([], []) }
        var names: Set<String> = []
        var signatures: [SignatureField] = []
        var visited: Set<PDFReference> = []

        func visitField(_ object: PDFObject, parentName: String?, inheritedType: PDFName?, depth: Int) throws {
            guard depth < Self.maximumTreeDepth else { throw PDFError.limitExceeded("form fields nested deeper than \(Self.maximumTreeDepth)") }
            if let reference = object.referenceValue {
                guard visited.insert(reference).inserted else { throw PDFError.referenceCycle(number: reference.number) }
                guard visited.count <= Self.maximumFields else { throw PDFError.limitExceeded("more than \(Self.maximumFields) form fields") }
            }
            guard let field = try dictionary(object) else { return }
            let partial = field["T"]?.stringBytes.map(PDFText.decode)
            let name = [parentName, partial].compactMap { $0 }.joined(separator: ".")
            let type = field["FT"]?.nameValue ?? inheritedType
            let kids = try resolve(field["Kids"]).arrayValue ?? []
            // Kids that have a /T are fields; kids without are only its widgets.
            let childFields = try kids.filter { try dictionary($0)?["T"] != nil }
            if childFields.isEmpty {
                names.insert(name)
                if type == "Sig" {
                    let value = try dictionary(field["V"])
                    signatures.append(SignatureField(
                        reference: object.referenceValue, name: name, isSigned: value != nil,
                        subFilter: value?["SubFilter"]?.nameValue.map { String(decoding: $0.bytes, as: UTF8.self) }))
                }
            } else {
                for kid in childFields { try visitField(kid, parentName: name.isEmpty ? nil : name, inheritedType: type, depth: depth + 1) }
            }
        }
        for field in fields { try visitField(field, parentName: nil, inheritedType: nil, depth: 0) }
        return (names, signatures)
    }
}

/// PDF text strings (§7.9.2.2): UTF-16BE with a byte-order mark, UTF-8 with one (PDF 2.0), else
/// PDFDocEncoding (read here as Latin-1, which it matches for the letters names use).
enum PDFText {
    static func decode(_ bytes: [UInt8]) -> String {
        if bytes.starts(with: [0xFE, 0xFF]) {
            var units: [UInt16] = []
            var index = 2
            while index + 1 < bytes.count {
                units.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
                index += 2
            }
            return String(decoding: units, as: UTF16.self)
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return String(decoding: bytes.dropFirst(3), as: UTF8.self) }
        return String(bytes.map { Character(Unicode.Scalar($0)) })
    }

    /// A text string for a document: PDFDocEncoding when ASCII is enough, UTF-16BE otherwise.
    static func encode(_ text: String) -> [UInt8] {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return Array(text.utf8) }
        return [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}
