import ArgumentParser
import Foundation
import HubCore

/// `hubd revoke`: revokes box certificates issued by the hub's own CA ([ca] in hubd.toml) and
/// writes a fresh signed CRL to `server.crl_file`, which a running hubd picks up by itself
/// (docs/hubd.md, "Revoking a box"). With an external CA, revoke at that CA instead.
struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Thu hồi chứng thư số của hộp / revoke a box's certificates",
        discussion: "Lý do / reasons: unspecified, keyCompromise, affiliationChanged, superseded, cessationOfOperation.")

    @Option(help: "Tệp cấu hình TOML / the TOML configuration file")
    var config: String = "/etc/hubd/hubd.toml"

    @Option(help: "Mã cơ quan của hộp (CN của chứng thư số) / the box's agency code (its certificate's CN)")
    var agency: String?

    @Option(parsing: .singleValue, help: "Số sê-ri (hex), có thể lặp lại / serial number in hex, may be repeated")
    var serial: [String] = []

    @Option(parsing: .singleValue, help: "Tệp chứng thư số PEM của hộp, có thể lặp lại / the box's PEM certificate file, may be repeated")
    var certificate: [String] = []

    @Option(help: "Lý do / reason")
    var reason: String = "keyCompromise"

    @Flag(help: "Chỉ ghi lại CRL (gia hạn nextUpdate) / only write the CRL again (a later nextUpdate)")
    var refresh = false

    @Flag(help: "Liệt kê các chứng thư số đã thu hồi / list the revoked certificates")
    var list = false

    func run() throws {
        do {
            let configuration = try HubConfiguration.load(path: config)
            let registry = try RevocationRegistry(configuration: configuration)
            let crlFile = configuration.crlFile ?? ""
            if list {
                for entry in try registry.entries() {
                    print("\(entry.agency)\t\(entry.serial)\t\(entry.date.formatted(.iso8601))\t\(entry.reason)")
                }
                return
            }
            if refresh {
                try registry.refresh(crlFile: crlFile)
                print("OK: \(crlFile)")
                return
            }
            guard let agency else { throw ValidationError("--agency is required") }
            var serials = try serial + certificate.map { try RevocationRegistry.serial(ofCertificateFile: $0, agency: agency) }
            if serials.isEmpty {
                // --agency alone: every certificate the hub issued to it and not yet expired,
                // those superseded by a renewal included (docs/hubd.md, "Enrolment").
                let now = Date()
                serials = try EnrolmentRecords(dataDirectory: configuration.dataDirectory).issued(agency: agency)
                    .filter { $0.notAfter > now }.map(\.serial)
                guard !serials.isEmpty else {
                    throw RevocationError("Hub chưa cấp chứng thư số nào còn hạn cho \(agency); dùng --serial HEX hoặc --certificate FILE",
                                          "The hub has issued no unexpired certificate to \(agency); use --serial HEX or --certificate FILE")
                }
            }
            let added = try registry.revoke(agency: agency, serials: serials, reason: reason, crlFile: crlFile)
            print("OK: \(agency): \(added.isEmpty ? "đã thu hồi từ trước / already revoked" : added.joined(separator: " ")) → \(crlFile)")
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("hubd revoke: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
