// The images a signature's appearance draws (the leaders' handwritten signatures, the seal),
// replaceable while the daemon runs: the console's Quản trị page uploads one and the next
// signature shows it (docs/console.md, "Administration").
import DocumentSigning
import DurableFiles
import Foundation
import SigningPolicy
import Synchronization

/// An uploaded image is kept in `<data>/signing/images/` — the daemon may write there, while
/// `/etc/gatewayd` is read-only to it (`ProtectSystem=strict`) — and wins over `[signing]
/// seal_image` / `[[signing.leaders]] signature_image` at the next start too.
package final class AppearanceImages: Sendable {
    /// An uploaded PNG may not be larger than this: a signature or seal scanned at 300 dpi is a
    /// few tens of kilobytes, and the image goes into every signed PDF.
    package static let sizeLimit = 512 * 1024

    package struct Image: Sendable {
        package var png: PNGImage
        /// The file's bytes, for the console to show it.
        package var bytes: [UInt8]
    }

    package struct Failure: Error, Sendable, CustomStringConvertible {
        package var description: String
        package init(description: String) { self.description = description }
    }

    /// The configured leaders (name, title, identity): whose signature image may be uploaded.
    package let leaders: [ConfiguredLeader]
    /// `<data>/signing/images`; nil: uploads are not kept (tests of the stage alone).
    package let directory: String?
    let sealWidthMillimetres: Double?
    private let state: Mutex<(signatures: [String: Image], seal: SigningSettings.Seal?)>

    init(settings: SigningSettings) {
        (leaders, directory, sealWidthMillimetres) = (settings.leaders, settings.imageDirectory, settings.sealWidthMillimetres)
        state = Mutex((settings.signatureImages, settings.seal))
    }

    package static func directory(dataDirectory: String) -> String { dataDirectory + "/signing/images" }

    /// `CCCD:001085012345` → `leader-CCCD-001085012345.png`: letters, digits, `-` and `.` only.
    package static func signatureFile(_ identity: String) -> String {
        "leader-" + String(identity.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") ? $0 : "-" }) + ".png"
    }

    package static let sealFile = "seal.png"

    package func signature(for identity: String) -> Image? { state.withLock { $0.signatures[identity] } }
    package var seal: SigningSettings.Seal? { state.withLock { $0.seal } }

    /// Checks `bytes` with the project's PNG reader (and, for the seal, that its real size is
    /// known), keeps the file, and serves it from the next signature on. Nothing changes on failure.
    package func replaceSignature(of identity: String, with bytes: [UInt8]) throws(Failure) {
        guard leaders.contains(where: { $0.identity.description == identity }) else {
            throw Failure(description: "không có lãnh đạo này trong [[signing.leaders]] / no such leader in [[signing.leaders]]")
        }
        let png = try Self.read(bytes)
        try keep(bytes, as: Self.signatureFile(identity))
        state.withLock { $0.signatures[identity] = Image(png: png, bytes: bytes) }
    }

    package func replaceSeal(with bytes: [UInt8]) throws(Failure) {
        let png = try Self.read(bytes)
        var seal: SigningSettings.Seal
        do { seal = try SigningSettings.Seal(image: png, widthMillimetres: sealWidthMillimetres) } catch {
            throw Failure(description: (error as? SigningSessionRefusal)?.message ?? "\(error)")
        }
        seal.bytes = bytes
        try keep(bytes, as: Self.sealFile)
        state.withLock { $0.seal = seal }
    }

    static func read(_ bytes: [UInt8]) throws(Failure) -> PNGImage {
        guard bytes.count <= sizeLimit else {
            throw Failure(description: "ảnh quá lớn (tối đa \(sizeLimit / 1024) KiB) / the image is too large (at most \(sizeLimit / 1024) KiB)")
        }
        do { return try PNGImage(bytes: bytes) } catch { throw Failure(description: error.description) }
    }

    private func keep(_ bytes: [UInt8], as name: String) throws(Failure) {
        guard let directory else { return }
        do {
            try POSIXFile.makeDirectory(directory)
            try POSIXFile.replaceWhole(directory + "/" + name, with: bytes, mode: 0o640)
        } catch {
            throw Failure(description: "không lưu được ảnh / the image could not be kept: \(error)")
        }
    }

    /// At start: an uploaded image, when there is one, replaces the configured file's.
    package static func uploaded(_ name: String, in directory: String?) -> (PNGImage, [UInt8])? {
        guard let directory, let data = FileManager.default.contents(atPath: directory + "/" + name),
              let png = try? PNGImage(bytes: Array(data)) else { return nil }
        return (png, Array(data))
    }
}
