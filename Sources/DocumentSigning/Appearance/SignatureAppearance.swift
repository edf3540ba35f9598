import Foundation
import Inflate

/// What a visible signature looks like, by its role in Decree 30/2020/NĐ-CP Appendix I:
/// - `image` (the leader, người có thẩm quyền): the handwritten signature image centred in the
///   box, with optional lines of text (name, time) under it;
/// - `seal` (the organization, after the leader): the seal image at its real size, its right edge
///   a third of the way into the leader's signature image, vertically centred on it;
/// - `text` (an attachment, an electronic copy): lines of black text in the embedded font, at the
///   top right of the page unless a box is given.
/// Text is set in an embedded TrueType subset (Type0 / Identity-H with a ToUnicode map), so
/// Vietnamese survives rendering and copying. Pure: builds object bodies, reads nothing.
package struct SignatureAppearance: Sendable {
    package enum Content: Sendable {
        case image(PNGImage, lines: [String])
        /// `width`, `height`: the seal's real size in points.
        case seal(PNGImage, width: Double, height: Double)
        case text([String])
    }

    package var content: Content
    /// [x, y, width, height] in points, origin bottom left; nil: placed by role (the seal beside
    /// the earlier signature's image, text at the top right of the page; the leader needs one).
    package var rectangle: [Double]?
    /// Needed when there is text.
    package var font: TrueTypeFont?
    package var fontSize = 10.0

    package init(content: Content, rectangle: [Double]? = nil, font: TrueTypeFont? = nil) {
        self.content = content
        self.rectangle = rectangle
        self.font = font
    }

    /// Margin from the page's edges for text placed at the top right: 5 mm.
    static let margin = 5 * 72 / 25.4
    /// Space between the box and the text inside it.
    static let padding = 2.0
    static let lineSpacing = 1.25

    package enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case needsRectangle
        case needsFont
        case noEarlierSignatureImage
        case font(TrueTypeFont.Failure)
        case image(String)

        package var description: String {
            switch self {
            case .needsRectangle: "chữ ký của người có thẩm quyền cần --page và --rect / the leader's signature needs --page and --rect"
            case .needsFont: "cần phông chữ để viết chữ / a font is needed for the text (--font)"
            case .noEarlierSignatureImage:
                "không tìm thấy chữ ký có ảnh của người có thẩm quyền trong tệp để đặt con dấu; hãy cho --page và --rect / "
                    + "no earlier signature with an image (the leader's) to place the seal on; give --page and --rect"
            case .font(let failure): failure.description
            case .image(let reason): "không ghi được ảnh / cannot write the image: \(reason)"
            }
        }
    }

    // MARK: Placement

    /// Where the widget goes: its page and rectangle.
    struct Placement { var pageNumber: Int; var rectangle: [Double] }

    func place(in document: PDFDocument, pageNumber: Int) throws -> Placement {
        if let rectangle {
            guard rectangle.count == 4, rectangle[2] > 0, rectangle[3] > 0, rectangle.allSatisfy(\.isFinite) else {
                throw PDFError.structure("--rect: x,y,w,h với w, h dương / x,y,w,h with a positive width and height")
            }
            return Placement(pageNumber: pageNumber, rectangle: rectangle)
        }
        switch content {
        case .image: throw Failure.needsRectangle
        case .seal(_, let width, let height):
            guard let earlier = try Self.earlierSignatureImage(in: document) else { throw Failure.noEarlierSignatureImage }
            return Placement(pageNumber: earlier.pageNumber, rectangle: Self.sealRectangle(
                signatureImage: earlier.rectangle, sealWidth: width, sealHeight: height))
        case .text(let lines):
            let size = try textBlockSize(lines)
            let box = try document.page(pageNumber).box
            return Placement(pageNumber: pageNumber, rectangle: [
                box[2] - Self.margin - size.width, box[3] - Self.margin - size.height, size.width, size.height,
            ])
        }
    }

    /// The seal's box: its right edge one third into the signature image, centred on it vertically.
    package static func sealRectangle(signatureImage image: [Double], sealWidth: Double, sealHeight: Double) -> [Double] {
        [image[0] + image[2] / 3 - sealWidth, image[1] + image[3] / 2 - sealHeight / 2, sealWidth, sealHeight]
    }

    func textBlockSize(_ lines: [String]) throws -> (width: Double, height: Double) {
        guard let font else { throw Failure.needsFont }
        var widest = 0.0
        for line in lines {
            do { widest = max(widest, try font.width(of: line, size: fontSize)) } catch { throw Failure.font(error) }
        }
        return (widest + 2 * Self.padding, Double(lines.count) * fontSize * Self.lineSpacing + 2 * Self.padding)
    }

    /// The image box, in page space, of the last signed signature whose appearance draws an
    /// image (the leader's), found from its widget: the `cm` before the image's `Do` in the
    /// appearance stream, mapped from the form's /BBox to the widget's /Rect; the whole /Rect when
    /// the stream cannot be read that way (another producer's appearance).
    static func earlierSignatureImage(in document: PDFDocument) throws -> Placement? {
        let signatures = try document.formFields().signatures.filter(\.isSigned)
        for field in signatures.reversed() {
            guard var widget = try document.dictionary(field.reference.map(PDFObject.reference)) else { continue }
            if widget["Rect"] == nil, let kid = try document.resolve(widget["Kids"]).arrayValue?.first, let kidWidget = try document.dictionary(kid) {
                widget = kidWidget
            }
            guard let rect = try document.resolve(widget["Rect"]).arrayValue?.compactMap(\.numberValue), rect.count == 4 else { continue }
            let rectangle = [min(rect[0], rect[2]), min(rect[1], rect[3]), abs(rect[2] - rect[0]), abs(rect[3] - rect[1])]
            guard rectangle[2] > 0, rectangle[3] > 0 else { continue }
            guard let appearance = try document.dictionary(widget["AP"]), case .stream(let form) = try document.resolve(appearance["N"]) else { continue }
            let resources = try document.dictionary(form.dictionary["Resources"])
            let xObjects = try document.dictionary(resources?["XObject"]) ?? PDFDictionary()
            var imageNames: Set<String> = []
            for (name, value) in xObjects.entries {
                if try document.dictionary(value)?["Subtype"]?.nameValue == "Image" { imageNames.insert(String(decoding: name.bytes, as: UTF8.self)) }
            }
            guard !imageNames.isEmpty else { continue }
            let pageNumber = try Self.pageNumber(of: widget["P"]?.referenceValue, in: document)
            var box = rectangle
            // Another producer's appearance may be large or filtered in ways we do not read: then
            // the whole /Rect stands for the image rather than the signing failing.
            let content = (try? document.decodedData(of: form, objectNumber: nil, limit: 1 << 20)) ?? []
            if let matrix = Self.imageMatrix(in: content, names: imageNames),
               let bbox = try document.resolve(form.dictionary["BBox"]).arrayValue?.compactMap(\.numberValue), bbox.count == 4,
               bbox[2] != bbox[0], bbox[3] != bbox[1] {
                // Image space is the unit square under `matrix` (no rotation in ours), then BBox → Rect.
                let scaleX = rectangle[2] / (bbox[2] - bbox[0]), scaleY = rectangle[3] / (bbox[3] - bbox[1])
                box = [rectangle[0] + (matrix[4] - bbox[0]) * scaleX, rectangle[1] + (matrix[5] - bbox[1]) * scaleY,
                       matrix[0] * scaleX, matrix[3] * scaleY]
            }
            return Placement(pageNumber: pageNumber, rectangle: box)
        }
        return nil
    }

    static func pageNumber(of reference: PDFReference?, in document: PDFDocument) throws -> Int {
        guard let reference else { return 1 }
        var number = 0, found = 1
        try document.walkPages { page in
            number += 1
            if page.reference == reference { found = number; return true }
            return false
        }
        return found
    }

    /// The last `a b c d e f cm` before `/Name Do` of one of the image names, when it is a plain
    /// scale and translation (the form our leader appearance writes).
    static func imageMatrix(in content: [UInt8], names: Set<String>) -> [Double]? {
        let tokens = String(decoding: content, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" })
        var matrix: [Double]?
        for (index, token) in tokens.enumerated() {
            if token == "cm", index >= 6 {
                let numbers = tokens[(index - 6)..<index].compactMap { Double($0) }
                matrix = numbers.count == 6 ? numbers : nil
            }
            if token == "Do", index >= 1, tokens[index - 1].hasPrefix("/"), names.contains(String(tokens[index - 1].dropFirst())) {
                guard let matrix, matrix[1] == 0, matrix[2] == 0, matrix[0] > 0, matrix[3] > 0 else { return nil }
                return matrix
            }
        }
        return nil
    }

    // MARK: Objects

    /// The appearance form (its full object body) and the objects it uses, with references from
    /// `allocate`.
    func objects(width: Double, height: Double, allocate: () -> PDFReference) throws -> (form: [UInt8], others: [(PDFReference, [UInt8])]) {
        var others: [(PDFReference, [UInt8])] = []
        var xObjects = PDFDictionary()
        var content = ""
        var lines: [String] = []
        var textTop = height - Self.padding
        var centred = false

        func addImage(_ image: PNGImage, box: [Double]) throws {
            let reference = allocate()
            others += try Self.imageObjects(image, reference: reference, allocate: allocate)
            xObjects["Im1"] = .reference(reference)
            content += "q \(Self.format(box[2])) 0 0 \(Self.format(box[3])) \(Self.format(box[0])) \(Self.format(box[1])) cm /Im1 Do Q\n"
        }

        switch self.content {
        case .image(let image, let textLines):
            lines = textLines
            let textHeight = textLines.isEmpty ? 0 : Double(textLines.count) * fontSize * Self.lineSpacing + Self.padding
            let area = [0, textHeight, width, max(1, height - textHeight)]
            try addImage(image, box: Self.fit(width: Double(image.width), height: Double(image.height), in: area))
            textTop = textHeight - Self.padding / 2
            centred = true
        case .seal(let image, _, _):
            try addImage(image, box: [0, 0, width, height])
        case .text(let textLines):
            lines = textLines
        }

        var resources = PDFDictionary()
        if !xObjects.entries.isEmpty { resources["XObject"] = .dictionary(xObjects) }
        if !lines.isEmpty {
            guard let font else { throw Failure.needsFont }
            let embedded: EmbeddedFont
            do { embedded = try EmbeddedFont(font: font, text: lines) } catch { throw Failure.font(error) }
            let fontReference = allocate()
            others += try embedded.objects(reference: fontReference, allocate: allocate)
            resources["Font"] = .dictionary(PDFDictionary([("F1", .reference(fontReference))]))
            // Shrunk only when the widest line would not fit the box.
            var size = fontSize
            let widest = try lines.map { try font.width(of: $0, size: 1) }.max() ?? 0
            if widest > 0 { size = min(size, (width - 2 * Self.padding) / widest) }
            content += "BT 0 g\n"
            var baseline = textTop - font.ascentRatio * size
            var previousX = 0.0, previousY = 0.0
            for line in lines {
                let lineWidth = try font.width(of: line, size: size)
                let x = centred ? (width - lineWidth) / 2 : Self.padding
                content += "/F1 \(Self.format(size)) Tf \(Self.format(x - previousX)) \(Self.format(baseline - previousY)) Td <"
                content += try embedded.hexCodes(line) + "> Tj\n"
                previousX = x; previousY = baseline
                baseline -= size * Self.lineSpacing
            }
            content += "ET\n"
        }
        let stream = Array(content.utf8)
        let form = Self.streamObject(PDFDictionary([
            ("Type", .name("XObject")), ("Subtype", .name("Form")),
            ("BBox", .array([.integer(0), .integer(0), PDFSignatureUpdate.number(width), PDFSignatureUpdate.number(height)])),
            ("Resources", .dictionary(resources)),
        ]), data: stream)
        return (form, others)
    }

    /// The largest box of the image's proportions centred in `area` ([x, y, w, h]).
    static func fit(width: Double, height: Double, in area: [Double]) -> [Double] {
        let scale = min(area[2] / width, area[3] / height)
        let w = width * scale, h = height * scale
        return [area[0] + (area[2] - w) / 2, area[1] + (area[3] - h) / 2, w, h]
    }

    /// An image XObject (8 bits per component, FlateDecode) and its /SMask when it has alpha.
    static func imageObjects(_ image: PNGImage, reference: PDFReference, allocate: () -> PDFReference) throws -> [(PDFReference, [UInt8])] {
        var objects: [(PDFReference, [UInt8])] = []
        var dictionary = PDFDictionary([
            ("Type", .name("XObject")), ("Subtype", .name("Image")), ("Width", .integer(image.width)), ("Height", .integer(image.height)),
            ("ColorSpace", .name(image.components == 3 ? "DeviceRGB" : "DeviceGray")), ("BitsPerComponent", .integer(8)),
            ("Filter", .name("FlateDecode")),
        ])
        if let alpha = image.alpha {
            let maskReference = allocate()
            dictionary["SMask"] = .reference(maskReference)
            objects.append((maskReference, streamObject(PDFDictionary([
                ("Type", .name("XObject")), ("Subtype", .name("Image")), ("Width", .integer(image.width)), ("Height", .integer(image.height)),
                ("ColorSpace", .name("DeviceGray")), ("BitsPerComponent", .integer(8)), ("Filter", .name("FlateDecode")),
            ]), data: try deflate(alpha))))
        }
        objects.insert((reference, streamObject(dictionary, data: try deflate(image.samples))), at: 0)
        return objects
    }

    static func deflate(_ bytes: [UInt8]) throws -> [UInt8] {
        do { return try Deflater.deflate(bytes) } catch { throw Failure.image(error.description) }
    }

    /// `<< … /Length n >> stream … endstream`.
    static func streamObject(_ dictionary: PDFDictionary, data: [UInt8]) -> [UInt8] {
        var dictionary = dictionary
        dictionary["Length"] = .integer(data.count)
        var bytes = PDFSerializer.bytes(.dictionary(dictionary))
        bytes += "\nstream\n".utf8 + data + "\nendstream".utf8
        return bytes
    }

    static func format(_ value: Double) -> String {
        String(decoding: PDFSerializer.bytes(PDFSignatureUpdate.number(value)), as: UTF8.self)
    }
}

extension TrueTypeFont {
    /// The ascent as a fraction of the text size.
    var ascentRatio: Double { Double(ascent) / Double(unitsPerEm) }
}
