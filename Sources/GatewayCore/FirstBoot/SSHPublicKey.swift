// A technician's SSH public key from gateway.toml `[ssh] keys`, checked before it reaches
// authorized_keys: a key sshd would refuse is a box nobody can log in to, found out on site.
import Foundation

/// One OpenSSH public key line, `TYPE BASE64 [COMMENT]`, its blob parsed far enough to know it
/// is a key of the type it says (RFC 4253 §6.6, RFC 5656 §3.1, PROTOCOL.u2f).
package struct SSHPublicKey: Sendable, Equatable {
    package var type: String
    package var base64: String
    package var comment: String

    /// What authorized_keys gets: the key alone, no options (no `command=`, no `from=`).
    package var line: String { comment.isEmpty ? "\(type) \(base64)" : "\(type) \(base64) \(comment)" }

    /// ssh-dss is gone from OpenSSH 9; RSA keys below 2048 bits are refused too.
    static let types = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-rsa"]
    static let hint = "one line as ssh-keygen writes it in the .pub file, e.g. \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA… ky-thuat@laptop\""
        + " (PuTTYgen: the box \"Public key for pasting into OpenSSH authorized_keys file\")"

    package init(_ text: String) throws(ConfigurationIssue) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.contains("PRIVATE KEY") {
            throw Self.problem("đây là khóa BÍ MẬT, không được gửi đi / this is a PRIVATE key: it must never leave the technician's PC",
                               hint: "give the public key (the .pub file); make a new key pair, since this one has been copied")
        }
        if trimmed.hasPrefix("---- BEGIN SSH2") {
            throw Self.problem("khóa dạng PuTTY, cần dạng OpenSSH một dòng / a PuTTY (RFC 4716) key; one OpenSSH line is needed", hint: Self.hint)
        }
        guard !trimmed.contains(where: \.isNewline) else { throw Self.problem("khóa phải nằm trên một dòng / a key is one line", hint: Self.hint) }
        let fields = trimmed.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        guard let type = fields.first, fields.count >= 2 else {
            throw Self.problem("không phải khóa SSH / is not an SSH public key", hint: Self.hint)
        }
        guard Self.types.contains(type) else {
            if fields.dropFirst().contains(where: { Self.types.contains($0) }) || trimmed.contains("=\"") {
                throw Self.problem("không nhận tùy chọn trước khóa / options before the key are not accepted", hint: "only TYPE BASE64 COMMENT")
            }
            throw Self.problem("loại khóa \"\(type)\" không được nhận / key type \"\(type)\" is not accepted",
                               hint: "one of \(Self.types.joined(separator: ", ")); ssh-ed25519 is best")
        }
        guard let blob = Data(base64Encoded: fields[1]) else {
            throw Self.problem("phần base64 của khóa bị hỏng / the key's base64 is damaged", hint: "copy the whole line again")
        }
        var reader = Reader(bytes: Array(blob))
        guard let inner = reader.string(), String(decoding: inner, as: UTF8.self) == type else {
            throw Self.problem("khóa không khớp loại \(type) / the key's content is not of type \(type)", hint: "copy the whole line again")
        }
        switch type {
        case "ssh-rsa":
            guard reader.string() != nil, let modulus = reader.string(), reader.isAtEnd else {
                throw Self.problem("khóa RSA bị hỏng / a damaged RSA key", hint: "copy the whole line again")
            }
            let significant = modulus.drop { $0 == 0 }
            let bits = significant.count * 8 - (significant.first.map { $0.leadingZeroBitCount } ?? 0)
            if bits < 2048 {
                throw Self.problem("khóa RSA \(bits) bit quá ngắn / an RSA key of \(bits) bits is too short", hint: "2048 bits at least; better, ssh-keygen -t ed25519")
            }
        case "ssh-ed25519":
            guard reader.string()?.count == 32, reader.isAtEnd else {
                throw Self.problem("khóa Ed25519 bị hỏng / a damaged Ed25519 key", hint: "copy the whole line again")
            }
        case let ecdsa where ecdsa.hasPrefix("ecdsa-"):
            guard let curve = reader.string(), "ecdsa-sha2-" + String(decoding: curve, as: UTF8.self) == type,
                  reader.string()?.first == 0x04, reader.isAtEnd else {
                throw Self.problem("khóa ECDSA bị hỏng / a damaged ECDSA key", hint: "copy the whole line again")
            }
        default:
            break  // security-key types: the type inside is the check (the rest names the FIDO application)
        }
        self.type = type
        self.base64 = fields[1]
        self.comment = fields.count > 2 ? fields[2].trimmingCharacters(in: .whitespaces) : ""
    }

    static func problem(_ message: String, hint: String) -> ConfigurationIssue {
        ConfigurationIssue(message: message, hint: hint)
    }

    /// The SSH wire format's `string`: a 32-bit big-endian length, then that many bytes.
    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var isAtEnd: Bool { offset == bytes.count }

        mutating func string() -> ArraySlice<UInt8>? {
            guard bytes.count - offset >= 4 else { return nil }
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            guard length <= bytes.count - offset - 4 else { return nil }
            defer { offset += 4 + length }
            return bytes[offset + 4..<offset + 4 + length]
        }
    }
}
