import DocumentSigning
import Foundation
import SigningPolicy

/// What the signing stage needs, read once from `[signing]` and `[agency]` at start: the rules'
/// inputs and the appearances' images and font, loaded (a missing image is reported at start,
/// not in the middle of a leader's session).
package struct SigningSettings: Sendable {
    package var leaders: [ConfiguredLeader] = []
    package var agency = SigningAgency()
    package var numbering: OutgoingRegister.Numbering = .single
    package var clock: ClockSynchronisation.Tolerance = .requireSynchronised
    package var requireRevocation = false
    /// A session ends after this at the latest (at most 5 minutes: Decree 30 presence).
    package var sessionTimeout: Duration = .seconds(300)
    package var defaultNotation: String?
    /// Địa danh written as the signatures' location.
    package var place: String?
    /// The leaders' signature images, by identity text (`CCCD:…`).
    package var signatureImages: [String: AppearanceImages.Image] = [:]
    package var seal: Seal?
    /// The seal's real width when its PNG has no pHYs resolution (`[signing] seal_width_mm`).
    package var sealWidthMillimetres: Double?
    /// Where uploaded images are kept (`AppearanceImages`); nil: not kept.
    package var imageDirectory: String?
    package var font: TrueTypeFont?

    /// The organization's seal and its real size in points.
    package struct Seal: Sendable {
        package var image: PNGImage
        package var width: Double
        package var height: Double
        /// The file's bytes, for the console to show it.
        package var bytes: [UInt8] = []

        package init(image: PNGImage, widthMillimetres: Double? = nil) throws {
            let size: (width: Double, height: Double)
            if let widthMillimetres {
                size = (widthMillimetres, widthMillimetres * Double(image.height) / Double(image.width))
            } else if let real = image.sizeInMillimetres {
                size = real
            } else {
                throw SigningSessionRefusal(code: "seal_size", message: "ảnh con dấu không ghi độ phân giải (pHYs): cần [signing] seal_width_mm / the seal PNG has no pHYs resolution: set [signing] seal_width_mm")
            }
            (self.image, self.width, self.height) = (image, size.width * 72 / 25.4, size.height * 72 / 25.4)
        }
    }

    package init() {}

    /// The settings of `configuration`, with its images and font read. What cannot be read is
    /// left out and told in `problems` (logged at start): the daemon still takes documents in, and
    /// a leader without a readable image signs with the text appearance.
    package static func load(_ configuration: GatewayConfiguration) -> (settings: SigningSettings, problems: [String]) {
        let signing = configuration.signing
        var settings = SigningSettings()
        var problems: [String] = []
        settings.leaders = signing.leaders
        settings.agency = configuration.signingAgency
        settings.numbering = signing.numbering
        settings.clock = signing.clock
        settings.requireRevocation = signing.requireRevocation
        settings.sessionTimeout = signing.sessionTimeout
        settings.defaultNotation = signing.defaultNotation
        settings.place = signing.place
        func read(_ path: String) -> [UInt8]? {
            guard let data = FileManager.default.contents(atPath: path) else {
                problems.append("không đọc được / cannot read \(path)")
                return nil
            }
            return Array(data)
        }
        settings.sealWidthMillimetres = signing.sealWidthMillimetres
        let uploads = AppearanceImages.directory(dataDirectory: configuration.dataDirectory)
        settings.imageDirectory = uploads
        for leader in signing.leaders {
            let identity = leader.identity.description
            // An image uploaded in the console wins over the configured file.
            if let (png, bytes) = AppearanceImages.uploaded(AppearanceImages.signatureFile(identity), in: uploads) {
                settings.signatureImages[identity] = .init(png: png, bytes: bytes)
                continue
            }
            guard let path = leader.signatureImage, let bytes = read(path) else { continue }
            do { settings.signatureImages[identity] = .init(png: try PNGImage(bytes: bytes), bytes: bytes) } catch {
                problems.append("\(path): \(error.description)")
            }
        }
        var sealBytes = AppearanceImages.uploaded(AppearanceImages.sealFile, in: uploads)?.1
        if sealBytes == nil, let path = signing.sealImage { sealBytes = read(path) }
        if let bytes = sealBytes {
            do {
                settings.seal = try Seal(image: try PNGImage(bytes: bytes), widthMillimetres: signing.sealWidthMillimetres)
                settings.seal?.bytes = bytes
            } catch {
                problems.append("\(signing.sealImage ?? AppearanceImages.sealFile): \(error)")
            }
        }
        if let bytes = read(signing.font) {
            do { settings.font = try TrueTypeFont(bytes: bytes) } catch { problems.append("\(signing.font): \(error.description)") }
        }
        return (settings, problems)
    }

    /// Where the leader's signature goes when nothing else says: the lower right of the last
    /// page, where Decree 30's layout puts "QUYỀN HẠN, CHỨC VỤ CỦA NGƯỜI KÝ" (A4 in points).
    static let leaderBox: [Double] = [330, 110, 200, 70]
}
