// `gatewayd edxml …`: build, read, sign and check edXML packages (QCVN 102:2016); one file per subcommand beside this one.
import ArgumentParser
import DocumentModel
import EdXML
import Foundation
import GatewayCore
import Signing
import X509

struct EdXMLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edxml",
        abstract: "Gói tin edXML (QCVN 102:2016) / edXML packages.",
        subcommands: [Pack.self, Show.self, Unpack.self, StatusCommand.self, Verify.self])

    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as EdXMLError {
            throw CLI.fail(error.description)
        } catch {
            throw SignerOptions.failure(error)  // the token's, during the signature
        }
    }
}
