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

    /// `--signer KEY.pem --cert CHAIN.pem`: a software key (development, tests, the demo).
    struct SignerOptions: ParsableArguments {
        @Option(name: .customLong("signer"), help: "Private key (PEM) to sign the package with.") var keyFile: String?
        @Option(name: .customLong("cert"), help: "Certificate chain (PEM): the signer's certificate first.") var chainFile: String?

        func signer() throws -> (any Signer)? {
            switch (keyFile, chainFile) {
            case (nil, nil): return nil
            case (let key?, let chain?):
                do { return try SoftwareKeySigner(keyFile: key, chainFile: chain) } catch let error as SignerError {
                    throw CLI.fail(error.description)
                }
            default:
                throw ValidationError("--signer và --cert phải đi cùng nhau / --signer and --cert go together")
            }
        }
    }

    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as EdXMLError {
            throw CLI.fail(error.description)
        }
    }
}
