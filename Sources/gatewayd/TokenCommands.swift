// `gatewayd token …`: what a technician or clerk needs to see and test a signing token.
import ArgumentParser
import Crypto
import Foundation
import GatewayCore
import TokenDriver
import X509
#if canImport(Glibc)
import Glibc
#endif

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Token ký số / USB signing tokens (PIV over PC/SC).",
        subcommands: [List.self, Sign.self, Cert.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Liệt kê đầu đọc và token / readers, tokens, certificates, PIN tries left.")
        @Flag(help: "JSON output.") var json = false

        func run() async throws {
            let reports: [TokenReport]
            do { reports = try TokenInventory.scan() } catch { throw CLI.fail(error.description) }
            if json { try CLI.printJSON(reports); return }
            if reports.isEmpty { print("Không có đầu đọc nào / no reader connected") }
            for report in reports {
                print("\(report.reader): " + (report.cardPresent ? (report.piv ? "token PIV" : "thẻ không phải PIV / not PIV") : "trống / empty"))
                if let atr = report.atr { print("  ATR \(atr)") }
                if report.pinBlocked == true { print("  PIN: BỊ KHÓA / BLOCKED") } else if let tries = report.pinTriesLeft {
                    print("  PIN: còn \(tries) lần thử / \(tries) tries left")
                }
                for certificate in report.certificates {
                    print("  slot \(certificate.slot): \(certificate.subject) — \(certificate.keyType), hết hạn / expires \(GatewayJSON.format(certificate.notAfter))")
                }
                if let problem = report.problem { print("  \(problem)") }
            }
        }
    }

    struct Selection: ParsableArguments {
        @Option(help: "9a, 9c, 9d or 9e.") var slot: String = "9c"
        @Option(help: "Reader name (default: the first reader with a PIV token).") var reader: String?

        func open() throws -> (PIVToken, PIV.Slot) {
            guard let slot = PIV.Slot(rawValue: slot.lowercased()) else { throw CLI.fail("slot phải là 9a, 9c, 9d hoặc 9e / slot must be 9a, 9c, 9d or 9e") }
            do {
                let context = try PCSCContext()
                let names = try reader.map { [$0] } ?? context.readers()
                for name in names {
                    guard let card = try? context.connect(reader: name) else { continue }
                    let token = PIVToken(card: card)
                    if (try? token.select()) != nil { return (token, slot) }
                    card.disconnect()
                }
            } catch let error as PCSCError {
                throw CLI.fail(error.description)
            }
            throw CLI.fail("Không tìm thấy token PIV / no PIV token found")
        }
    }

    struct Cert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Xuất chứng thư số của một slot / write a slot's certificate as PEM.")
        @OptionGroup var selection: Selection
        @Option(help: "Output file (PEM).") var out: String

        func run() async throws {
            let (token, slot) = try selection.open()
            do {
                let der = try token.certificate(slot)
                let pem = try Certificate(derEncoded: der).serializeAsPEM().pemString + "\n"
                try pem.write(toFile: out, atomically: true, encoding: .utf8)
            } catch let failure as PIVToken.Failure {
                throw CLI.fail(failure.description)
            }
        }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ký SHA-256 của một tệp trên token / sign the SHA-256 of a file on the token.",
            discussion: "Writes the raw signature (PKCS#1 v1.5 for RSA, DER for ECDSA): `openssl dgst -sha256 -verify PUB -signature SIG FILE` checks it. The PIN is read from --pin-file or asked on the terminal; it is tried once, never when one try is left unless --force.")
        @OptionGroup var selection: Selection
        @Option(name: .customLong("in"), help: "The file to sign.") var input: String
        @Option(help: "Where to write the signature.") var out: String
        @Option(help: "rsa-pkcs1-sha256 or ecdsa-sha256 (default: from the slot's certificate).") var algorithm: String?
        @Option(name: .customLong("pin-file"), help: "A file whose first line is the PIN (tests, scripts).") var pinFile: String?
        @Flag(help: "Try the PIN even when only one try is left.") var force = false

        func run() async throws {
            let (token, slot) = try selection.open()
            let keyAlgorithm: PIV.Algorithm
            do {
                let certificate = try Certificate(derEncoded: try token.certificate(slot))
                guard let fromCertificate = TokenInventory.algorithm(of: certificate) else { throw CLI.fail("Khóa của slot \(slot.rawValue) không được hỗ trợ / unsupported key type") }
                keyAlgorithm = fromCertificate
            } catch let failure as PIVToken.Failure {
                throw CLI.fail(failure.description)
            }
            if let algorithm {
                let wanted: PIV.Algorithm? = algorithm == "rsa-pkcs1-sha256" ? .rsa2048 : algorithm == "ecdsa-sha256" ? .eccP256 : nil
                guard wanted == keyAlgorithm else { throw CLI.fail("--algorithm \(algorithm) không khớp với khóa trên token / does not match the token's key") }
            }
            guard let data = FileManager.default.contents(atPath: input) else { throw CLI.fail("Không đọc được tệp / cannot read \(input)") }
            let digest = Array(SHA256.hash(data: data))
            let pin: PIN
            do { pin = try PIN(try readPIN()) } catch let error as PIN.FormatError { throw CLI.fail(error.description) }
            do {
                let signature = try token.sign(digest: digest, digestAlgorithm: .sha256, keyAlgorithm: keyAlgorithm, slot: slot, pin: pin, force: force)
                try Data(signature).write(to: URL(fileURLWithPath: out))
            } catch let failure as PIVToken.Failure {
                throw CLI.fail(failure.description)
            }
        }

        func readPIN() throws -> String {
            if let pinFile {
                guard let text = try? String(contentsOfFile: pinFile, encoding: .utf8) else { throw CLI.fail("Không đọc được tệp PIN / cannot read the PIN file") }
                return String(text.split(whereSeparator: \.isNewline).first ?? "")
            }
            guard let entered = getpass("Mã PIN / PIN: ") else { throw CLI.fail("Không đọc được mã PIN / no PIN entered") }
            return String(cString: entered)
        }
    }
}
