// `gatewayd enroll [--token T]`: gets the box's certificate from the hub (docs/protocol.md,
// "Enrolment", "The box's side"); run again with a new token, it replaces the box's identity.
import ArgumentParser
import DocumentModel
import Foundation
import GatewayCore
import Logging

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
    @OptionGroup var location: Location

    func run() async throws {
        let configuration = try await CLI.call { try location.resolve() }
        let logger = Logger(label: "gatewayd.enroll")
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
