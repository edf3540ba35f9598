// `[signing]` and `[[signing.leaders]]` for the configuration loader (docs/configuration.md):
// the signing stage's settings read and checked, each problem with its key and a hint.
import Foundation
import SigningPolicy
import TOMLKit

extension ConfigurationLoader.Reader {
    mutating func readSigning(_ table: TOMLTable, into signing: inout GatewayConfiguration.Signing) {
        if let value = table["signatures"] {
            let words = value.array.map { $0.compactMap(\.string) }
            if let words, words.count == value.array?.count {
                do throws(SigningRefusal) { signing.defaultSignatures = try SigningFlow(signatures: words).required } catch {
                    issue("signing.signatures", error.message, hint: "signatures = [\"leader\", \"organization\"], or [\"organization\"] when leaders sign elsewhere")
                }
            } else {
                issue("signing.signatures", "phải là danh sách chữ ký / must be a list of signatures, found \(value.tomlValue.debugDescription)",
                      hint: "signatures = [\"leader\", \"organization\"]")
            }
        }
        if let numbering: OutgoingRegister.Numbering = choice(table, "signing", "numbering") { signing.numbering = numbering }
        if let clock: ClockSynchronisation.Tolerance = choice(table, "signing", "clock") { signing.clock = clock }
        if let require = bool(table, "signing", "require_revocation") { signing.requireRevocation = require }
        if let timeout = duration(table, "signing", "session_timeout") {
            if timeout > .zero, timeout <= GatewayConfiguration.Signing.maximumSessionTimeout { signing.sessionTimeout = timeout } else {
                issue("signing.session_timeout", "phiên ký dài hơn 0 và tối đa 5 phút / a signing session lasts more than 0 and at most 5 minutes",
                      hint: "no unattended signing: a session ends after at most 5 minutes, e.g. session_timeout = \"5m\"")
            }
        }
        signing.sealImage = absolutePath(table, "signing", "seal_image", example: "/etc/gatewayd/dau.png")
        if let value = table["seal_width_mm"] {
            if let width = value.double ?? value.int.map(Double.init), (10...100).contains(width) { signing.sealWidthMillimetres = width } else {
                issue("signing.seal_width_mm", "bề rộng con dấu từ 10 đến 100 mm / the seal's width must be 10 to 100 mm, found \(value.tomlValue.debugDescription)",
                      hint: "the real width of the seal in millimetres, e.g. seal_width_mm = 36")
            }
        }
        if let font = absolutePath(table, "signing", "font", example: GatewayConfiguration.Signing.defaultFont) { signing.font = font }
        if let url = string(table, "signing", "tsa_url") {
            if let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased()), parsed.host?.isEmpty == false {
                signing.timestampURL = url
            } else {
                issue("signing.tsa_url", "\"\(url)\" không phải địa chỉ http(s) / is not an http(s) URL",
                      hint: "the RFC 3161 timestamp service of your CA, e.g. tsa_url = \"http://tsa.example.vn\"; leave it out to sign without a timestamp (B-B)")
            }
        }
        if let notation = string(table, "signing", "default_notation") {
            let trimmed = notation.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.count > 30 || trimmed.contains("/") || trimmed.contains(where: \.isNewline) {
                issue("signing.default_notation", "ký hiệu từ 1 đến 30 ký tự, không kèm số (không có dấu gạch chéo) / a notation of 1 to 30 characters, without the number (no slash)",
                      hint: "e.g. default_notation = \"QĐ-UBND\"; the number comes from the register when the document is sealed")
            } else {
                signing.defaultNotation = trimmed
            }
        }
        if let place = string(table, "signing", "place") {
            let trimmed = place.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.contains(where: \.isNewline) {
                issue("signing.place", "địa danh không được để trống / the place name must not be empty", hint: "e.g. place = \"Hòa Tiến\"")
            } else {
                signing.place = trimmed
            }
        }
        if let value = table["leaders"] { signing.leaders = readLeaders(value) }
    }

    /// `[[signing.leaders]]`: each leader by name, title and the identifier in their personal
    /// certificate; a leader missing a required key is left out (and reported), never half-read.
    mutating func readLeaders(_ value: any TOMLValueConvertible) -> [ConfiguredLeader] {
        guard let array = value.array, array.allSatisfy({ $0.table != nil }) else {
            issue("signing.leaders", "mỗi lãnh đạo là một bảng [[signing.leaders]] / each leader is a table [[signing.leaders]]",
                  hint: "write [[signing.leaders]] (two brackets) above each leader's name, title and identity")
            return []
        }
        var leaders: [ConfiguredLeader] = []
        var seen: [SubjectIdentifier: Int] = [:]
        for (index, item) in array.enumerated() {
            let table = item.table!
            let label = "signing.leaders[\(index + 1)]"
            checkKeys(table, section: "signing.leaders", label: label)
            let name = requiredText(table, label, "name", hint: "the leader's full name, e.g. name = \"Nguyễn Văn An\"")
            let title = requiredText(table, label, "title", hint: "as written above the signature, e.g. title = \"CHỦ TỊCH\" or \"KT. CHỦ TỊCH\\nPHÓ CHỦ TỊCH\"")
            var identity: SubjectIdentifier?
            if let text = requiredText(table, label, "identity", hint: Self.identityHint) {
                if let parsed = SubjectIdentifier(text) {
                    if !parsed.kind.isPersonal {
                        issue("\(label).identity", "\"\(text)\" là định danh của tổ chức, lãnh đạo là một người / is an organization's identifier; a leader is a person",
                              hint: "the identifier in the leader's personal certificate (UID): \(Self.identityHint)")
                    } else if let first = seen[parsed] {
                        issue("\(label).identity", "\(parsed) đã là của lãnh đạo thứ \(first) / is already leader \(first)'s",
                              hint: "one [[signing.leaders]] per person")
                    } else {
                        seen[parsed] = index + 1
                        identity = parsed
                    }
                } else {
                    issue("\(label).identity", "\"\(text)\" không phải định danh cá nhân / is not a personal identifier", hint: Self.identityHint)
                }
            }
            let image = absolutePath(table, label, "signature_image", example: "/etc/gatewayd/chu-tich.png")
            if let name, let title, let identity {
                leaders.append(ConfiguredLeader(name: name, title: title, identity: identity, signatureImage: image))
            }
        }
        return leaders
    }

    static let identityHint = "CCCD:001085012345 (12 digits), CMND:… (9 or 12) or HC:… (passport), as in the certificate's UID"
}
