// `gatewayd audit verify`: the audit chain against the hub-signed anchors in the stored receipts.
import ArgumentParser
import Foundation
import GatewayCore

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Nhật ký văn bản / the documents' audit trail.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Đối chiếu nhật ký với các mốc cấp trên đã ký / check the audit chain against the hub's signed anchors.",
            discussion: """
                Walks the audit chain (as store check does), then checks every stored receipt's hub signature and that \
                the anchor it signs is the hash of the line at that position: a history rewritten consistently, every \
                hash recomputed, is found. Reads the store read-only, beside a running daemon or not. \
                Exit 0: consistent; 1: findings (listed).
                """)
        @Flag(help: "JSON output.") var json = false
        @Option(name: .customLong("hub-ca"), help: "The hub CA (PEM). Default: [upstream] ca of the configuration.")
        var hubCA: String?
        @OptionGroup var location: Location

        func run() async throws {
            let configuration = try location.resolve()
            guard let caFile = hubCA ?? configuration.upstream.caFile else {
                throw CLI.fail("Chưa có CA của cấp trên ([upstream] ca hoặc --hub-ca) / no hub CA ([upstream] ca or --hub-ca)")
            }
            let report: AuditVerifyReport
            do { report = try await AuditVerifier.verify(layout: configuration.layout, hubCAFile: caFile) } catch let error as AuditVerifier.Unavailable {
                throw CLI.fail(error.description)
            }
            if json {
                try CLI.printJSON(report)
            } else {
                print("Dòng nhật ký đã kiểm / audit lines checked: \(report.chain.entriesChecked)")
                if let broken = report.chain.broken {
                    print("Chuỗi nhật ký đứt ở dòng \(broken.entry) (văn bản \(broken.documentId)): \(broken.vi) / "
                          + "audit chain broken at line \(broken.entry) (document \(broken.documentId)): \(broken.en)")
                }
                print("Biên nhận đã kiểm / receipts checked: \(report.receiptsChecked) (mốc / anchors: \(report.anchorsChecked), "
                      + "không có mốc / without an anchor: \(report.receiptsWithoutAnchor))")
                if let latest = report.latestAnchor { print("Mốc mới nhất cấp trên đã ký / latest hub-signed anchor: dòng / line \(latest.entry)") }
                for finding in report.findings { print("\(finding.vi) / \(finding.en)") }
                print(report.isClean ? "Nhật ký khớp với các mốc của cấp trên / the audit trail matches the hub's anchors."
                                     : "Đã phát hiện vấn đề (xem trên) / problems found (see above).")
            }
            if !report.isClean { throw ExitCode.failure }
        }
    }
}
