// Signing a file the way the gateway does, whoever asks (`gatewayd sign` today, the signing stage
// next): a PDF by PAdES (the caller fills `PAdESSigner.Options`), any other file by a detached
// CAdES-B signature (.p7s); the Decree 30/2020 roles, the visible box's rectangle and the choice
// of algorithm for a key. Messages are in Vietnamese and English, for the clerk.
import Foundation
import Signing

package enum FileSigning {
    /// Who signs, in the terms of Decree 30/2020 Appendix I: it chooses the signature's
    /// appearance and is recorded as its reason.
    package enum Role: String, CaseIterable, Sendable {
        case leader, organization, attachment, copy

        /// The reason written in the signature dictionary.
        package var reason: String {
            switch self {
            case .leader: "Người có thẩm quyền ký / signed by the competent person"
            case .organization: "Cơ quan, tổ chức ký / signed by the organization"
            case .attachment: "Ký tệp đính kèm / signed as an attachment"
            case .copy: "Bản sao điện tử / electronic copy"
            }
        }
    }

    package enum Failure: Error, Equatable, CustomStringConvertible {
        case unknownRole(String)
        case badRectangle(String)
        case algorithmNotForKey(String, keyType: String)
        case unreadable(path: String, reason: String)
        case unwritable(path: String, reason: String)

        package var description: String {
            switch self {
            case .unknownRole: "--role: leader, organization, attachment hoặc / or copy"
            case .badRectangle: "--rect: x,y,w,h (điểm, w và h dương / points, positive width and height), ví dụ / e.g. 300,80,220,50"
            case .algorithmNotForKey(let name, let keyType): "--algorithm \(name) không dùng được với khóa \(keyType) / cannot be used with a \(keyType) key"
            case .unreadable(let path, let reason): "Không đọc được tệp / cannot read \(path): \(reason)"
            case .unwritable(let path, let reason): "Không ghi được / cannot write \(path): \(reason)"
            }
        }
    }

    package static func role(_ name: String) throws(Failure) -> Role {
        guard let role = Role(rawValue: name) else { throw .unknownRole(name) }
        return role
    }

    /// `x,y,w,h` in points, origin at the page's bottom left; width and height positive.
    package static func rectangle(_ text: String) throws(Failure) -> [Double] {
        let numbers = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard numbers.count == 4, let x = numbers[0], let y = numbers[1], let width = numbers[2], let height = numbers[3],
              width > 0, height > 0 else {
            throw .badRectangle(text)
        }
        return [x, y, width, height]
    }

    /// The named algorithm when the key can make it; the key's preferred one without a name.
    package static func algorithm(named name: String?, for keyType: SignerKeyType) throws(Failure) -> SignatureAlgorithm {
        guard let name else { return keyType.algorithms[0] }
        guard let named = SignatureAlgorithm(rawValue: name), keyType.algorithms.contains(named) else {
            throw .algorithmNotForKey(name, keyType: keyType.description)
        }
        return named
    }

    /// By content, not by name: "%PDF-" in the first kilobyte (as PDF readers accept it).
    package static func isPDF(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path), let head = try? handle.read(upToCount: 1024) else { return false }
        try? handle.close()
        return ByteSearch.first(Array("%PDF-".utf8), in: Array(head)) != nil
    }

    /// A detached CAdES-B signature (B-T with `timestamp`) of the file at `path`, written whole to
    /// `output` (atomically: a reader never sees half a signature). Returns the CMS bytes.
    @discardableResult
    package static func signDetached(
        path: String, output: String, signer: any Signer, algorithm: SignatureAlgorithm,
        timestamp: (@Sendable ([UInt8]) async throws -> [UInt8])? = nil
    ) async throws -> [UInt8] {
        let digest: [UInt8]
        do { digest = try FileDigest.compute(path: path, algorithm: algorithm.digest) } catch {
            throw Failure.unreadable(path: path, reason: error.localizedDescription)
        }
        let cms = try await CMSSignedDataBuilder.sign(contentDigest: digest, signer: signer, algorithm: algorithm, profile: .cades,
                                                      timestamp: timestamp)
        do { try Data(cms).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
            throw Failure.unwritable(path: output, reason: error.localizedDescription)
        }
        return cms
    }
}
