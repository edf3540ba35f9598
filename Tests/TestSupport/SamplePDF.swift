// Shared by GatewayCoreTests and ConsoleTests: documents that the doors take.
import Foundation

/// Real one-page PDFs for tests that submit documents: the doors refuse a `.pdf` that is not a
/// PDF the box could sign (PDFIntakeCheck), so a test's "document" must be one.
public enum SamplePDF {
    /// A one-page PDF (classic cross-reference table) showing `text`, with `padding` carried as
    /// an extra stream (any bytes: random data stands for a scan's images).
    public static func bytes(_ text: String = "Van ban thu nghiem", padding: [UInt8] = []) -> [UInt8] {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "(", with: "\\(").replacingOccurrences(of: ")", with: "\\)")
        let content = Array("BT /F1 12 Tf 72 760 Td (\(escaped)) Tj ET".utf8)
        let objects: [[UInt8]] = [
            Array("<</Type/Catalog/Pages 2 0 R>>".utf8),
            Array("<</Type/Pages/Kids[3 0 R]/Count 1>>".utf8),
            Array("<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>".utf8),
            Array("<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>".utf8),
            Array("<</Length \(content.count)>>\nstream\n".utf8) + content + Array("\nendstream".utf8),
            Array("<</Length \(padding.count)>>\nstream\n".utf8) + padding + Array("\nendstream".utf8),
        ]
        var output = Array("%PDF-1.7\n%\u{E2}\u{E3}\u{CF}\u{D3}\n".utf8)
        var offsets: [Int] = []
        for (index, body) in objects.enumerated() {
            offsets.append(output.count)
            output += Array("\(index + 1) 0 obj\n".utf8) + body + Array("\nendobj\n".utf8)
        }
        let xref = output.count
        output += Array("xref\n0 \(objects.count + 1)\n0000000000 65535 f \n".utf8)
        for offset in offsets { output += Array(String(format: "%010d 00000 n \n", offset).utf8) }
        output += Array("trailer\n<</Size \(objects.count + 1)/Root 1 0 R>>\nstartxref\n\(xref)\n%%EOF\n".utf8)
        return output
    }

    /// A PDF of about `size` bytes (exactly, unless a digit more in a length falls on the
    /// boundary), its padding one repeated byte (random bytes cost seconds per 10 MB in a debug build).
    public static func bytes(size: Int) -> [UInt8] {
        var padding = max(0, size - bytes().count)
        var pdf = bytes(padding: [UInt8](repeating: 0x55, count: padding))
        for _ in 0..<3 where pdf.count != size && padding + size - pdf.count >= 0 {
            padding += size - pdf.count
            pdf = bytes(padding: [UInt8](repeating: 0x55, count: padding))
        }
        return pdf
    }

    /// The same PDF as text, for tests that write strings (all ASCII but the binary comment).
    public static func text(_ text: String = "Van ban thu nghiem") -> String { String(decoding: bytes(text), as: UTF8.self) }
}
