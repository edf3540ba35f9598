// `gatewayd enroll [--token T]`: gets the box's certificate from the hub (docs/protocol.md,
// "Enrolment", "The box's side"); run again with a new token, it replaces the box's identity.
import ArgumentParser
import DocumentModel
import Foundation
import GatewayCore
import Logging
import TimeJSON

struct Enroll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ghi danh hộp với cấp trên / enrol the box with the hub: a key made here, a certificate from the hub.",
        discussion: """
            Needs [enrolment] url, [upstream] url and ca_file, and [agency] code. The token is the one \
            `hubd enroll-token create` printed: --token, else [enrolment] token, else <data_dir>/enrolment-token. \
            A box already enrolled gets a new identity (a revoked or expired box enrols again this way); \
            restart gatewayd afterwards so that the relay uses it.
            """)
    @Option(help: "The one-time enrolment token from the hub.") var token: String?
    @Flag(help: "Ask the running daemon to renew the box's certificate now, without a token (over mutual TLS with the current one).")
    var renewNow = false
    @OptionGroup var location: Location

    func run() async throws {
        let configuration = try await CLI.call { try location.resolve() }
        let logger = Logger(label: "gatewayd.enroll")
        if renewNow {
            let state = BoxIdentityFiles(dataDirectory: configuration.dataDirectory).state
            guard (try? RenewalState.renewNow(state)) == true else {
                throw CLI.fail("Hộp chưa tự gia hạn (chưa ghi danh, hoặc gatewayd chưa chạy lần nào) / the box does not renew yet (not enrolled, or gatewayd never ran): \(state)")
            }
            print("Đã yêu cầu gia hạn; xem gatewayd status sau ít giây / renewal requested; see gatewayd status in a few seconds")
            return
        }
        do throws(EnrolmentError) {
            let enrolment = try BoxEnrolment(configuration: configuration, logger: logger)
            guard let token = token ?? enrolment.files.token(configured: configuration.enrolment.token) else {
                throw EnrolmentError(.notConfigured, vi: "Chưa có mã ghi danh: cho --token … (mã do hubd enroll-token create in ra)",
                                     en: "No enrolment token: give --token … (the one hubd enroll-token create printed)")
            }
            let certificate = try await enrolment.enroll(token: token)
            print("""
                Đã ghi danh / enrolled: \(certificate.subject)
                  hiệu lực đến / valid until: \(GatewayJSON.format(certificate.notValidAfter))
                  chứng thư số / certificate: \(enrolment.files.certificate)
                  khóa / key: \(enrolment.files.key) (0600, không rời khỏi hộp / never leaves the box)
                Khởi động lại gatewayd để dùng chứng thư số mới / restart gatewayd to use it: systemctl restart gatewayd
                """)
        } catch {
            throw CLI.fail("Ghi danh thất bại / enrolment failed: \(error.message)")
        }
    }
}
