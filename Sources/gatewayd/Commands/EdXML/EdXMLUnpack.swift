// `gatewayd edxml unpack`: a package's attachments into a directory.
import ArgumentParser
import DocumentModel
import EdXML
import Foundation
import GatewayCore
import Signing
import TimeJSON
import X509

extension EdXMLCommand {
    struct Unpack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Giải nén gói tin / decode a package's attachments into a directory.",
            discussion: "Writes each attachment under its own (sanitised) name and the metadata as edxml.json.")
        @Argument(help: "The package file.") var package: String
        @Option(help: "Directory to write into (created if missing).") var dir: String

        func run() async throws {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw CLI.fail("Không tạo được thư mục / cannot create \(dir): \(error.localizedDescription)")
            }
            let result = try await EdXMLCommand.run { try await PackageReader.read(path: package, unpackTo: dir) }
            let data = try GatewayJSON.encoder.encode(PackageView(result))
            try data.write(to: URL(fileURLWithPath: dir).appendingPathComponent("edxml.json"))
            for attachment in result.attachments { print(attachment.path ?? attachment.info.name) }
            for finding in result.findings { FileHandle.standardError.write(Data("! \(finding)\n".utf8)) }
        }
    }
}
