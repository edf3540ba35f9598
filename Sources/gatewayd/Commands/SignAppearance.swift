// The Decree 30/2020 appearance for `gatewayd sign`, chosen by --role: the options read into a
// `SignatureAppearance` (PNG and font files read here; the layout is DocumentSigning's).
import ArgumentParser
import DocumentSigning
import Foundation
import Signing
import X509

extension Sign {
    static let defaultFont = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"

    static let appearanceHelp = """
        leader: --image CHỮ_KÝ.png --page N --rect x,y,w,h (ảnh đặt giữa khung; --show-signer thêm họ tên, thời gian / \
        the image centred in the box; --show-signer adds name and time). \
        organization: --image DẤU.png (kích thước thật theo pHYs của PNG, hoặc --image-width-mm / real size from the PNG's \
        pHYs, or --image-width-mm), đè 1/3 ảnh chữ ký bên trái / over the left third of the leader's signature image \
        (--rect to place it yourself). \
        attachment: --number 123/UBND-VP → "123/UBND-VP 2026-11-21T09:15:02+07:00" ở góc trên bên phải trang 1 / top right \
        of page 1. copy: --copy-kind sao-y|sao-luc|trich-sao [--organization TÊN], góc trên bên phải / top right. \
        Chữ bằng phông nhúng (--font, mặc định Liberation Serif) / text in an embedded font (default Liberation Serif).
        """

    static let copyKinds = ["sao-y": "SAO Y", "sao-luc": "SAO LỤC", "trich-sao": "TRÍCH SAO"]

    /// nil: the plain (invisible) signature.
    func makeAppearance(signer: any Signer, rectangle: [Double]?, time: Date, zone: TimeZone) throws -> SignatureAppearance? {
        let isoTime = PAdESSigner.isoTime(time, zone)
        let name = PAdESSigner.commonName(signer.certificate)
        switch role {
        case "leader" where image != nil:
            guard rectangle != nil else { throw CLI.fail("--role leader --image: cần --page và --rect (khung đặt chữ ký) / needs --page and --rect (the signature's box)") }
            return SignatureAppearance(content: .image(try readImage(), lines: showSigner ? [name, isoTime] : []), rectangle: rectangle,
                                       font: showSigner ? try readFont() : nil)
        case "organization" where image != nil:
            let seal = try readImage()
            let size: (width: Double, height: Double)
            if let imageWidthMM {
                guard imageWidthMM > 0, imageWidthMM < 1000 else { throw CLI.fail("--image-width-mm: số mm dương / a positive number of millimetres") }
                size = (imageWidthMM, imageWidthMM * Double(seal.height) / Double(seal.width))
            } else if let real = seal.sizeInMillimetres {
                size = real
            } else {
                throw CLI.fail("\(image!): ảnh không ghi độ phân giải (pHYs), hãy cho --image-width-mm / the PNG has no pHYs resolution: give --image-width-mm")
            }
            return SignatureAppearance(content: .seal(seal, width: size.width * 72 / 25.4, height: size.height * 72 / 25.4), rectangle: rectangle)
        case "attachment":
            guard let number, !number.isEmpty else { throw CLI.fail("--role attachment: cần --number (số, ký hiệu văn bản) / needs --number (the document number/notation)") }
            return SignatureAppearance(content: .text(["\(number) \(isoTime)"]), rectangle: rectangle, font: try readFont())
        case "copy":
            guard let copyKind, let kind = Self.copyKinds[copyKind] else {
                throw CLI.fail("--role copy: cần --copy-kind sao-y, sao-luc hoặc trich-sao / needs --copy-kind sao-y, sao-luc or trich-sao")
            }
            let organization = organization ?? Self.organizationName(signer.certificate) ?? name
            return SignatureAppearance(content: .text([kind, organization, isoTime]), rectangle: rectangle, font: try readFont())
        default:
            if image != nil { throw CLI.fail("--image: chỉ cho --role leader hoặc organization / only with --role leader or organization") }
            guard let rectangle else { return nil }
            return SignatureAppearance(content: .text(["Ký bởi / Signed by: \(name)", "Thời gian / Time: \(isoTime)"]), rectangle: rectangle,
                                       font: try readFont())
        }
    }

    func readImage() throws -> PNGImage {
        let path = image!
        guard let data = FileManager.default.contents(atPath: path) else { throw CLI.fail("Không đọc được ảnh / cannot read the image \(path)") }
        do { return try PNGImage(bytes: Array(data)) } catch { throw CLI.fail("\(path): \(error.description)") }
    }

    func readFont() throws -> TrueTypeFont {
        guard let data = FileManager.default.contents(atPath: font) else {
            throw CLI.fail("Không đọc được phông chữ / cannot read the font \(font) (Debian: apt-get install fonts-liberation2)")
        }
        do { return try TrueTypeFont(bytes: Array(data)) } catch { throw CLI.fail("\(font): \(error.description)") }
    }

    /// The subject's O (the organization the certificate was issued to).
    static func organizationName(_ certificate: Certificate) -> String? {
        for relativeName in certificate.subject {
            for attribute in relativeName where attribute.type == .RDNAttributeType.organizationName {
                return String(describing: attribute.value)
            }
        }
        return nil
    }
}
