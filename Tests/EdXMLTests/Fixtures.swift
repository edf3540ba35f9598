import EdXML
import Foundation
import Signing
import TestSupport
import XCTest

/// Shared test material: a temporary directory per test, a sample package with Vietnamese text,
/// and a test PKI (root CA → signer) made by openssl.
enum Fixtures {
    static let samples = repositoryRoot.appendingPathComponent("Tests/EdXMLTests/Samples")

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("edxml-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func document(attachments: [AttachmentInfo] = []) -> DocumentPackage {
        DocumentPackage(
            header: MessageHeader(
                from: Organization(organId: "000.00.20.H13", organizationInCharge: "UBND tỉnh Thái Nguyên",
                                   organName: "UBND xã Đồng Hỷ", organAdd: "Xóm Đồng Hỷ, tỉnh Thái Nguyên", email: "vanthu@donghy.gov.vn"),
                to: [Organization(organId: "000.00.00.H41", organName: "UBND tỉnh Nghệ An"),
                     Organization(organId: "000.00.00.G22", organName: "Văn phòng Chính phủ")],
                code: DocumentCode(number: "125", notation: "QĐ-UBND"),
                promulgationInfo: PromulgationInfo(place: "Đồng Hỷ", date: "2025/07/15"),
                documentType: DocumentType(type: "1", typeDetail: "0", typeName: "Quyết định"),
                subject: "Về việc phê duyệt kế hoạch chuyển đổi số năm 2025 — “trích yếu” có dấu & <ký tự đặc biệt>",
                content: "Nội dung: Điều 1. Phê duyệt …\nĐiều 2. Giao Văn phòng UBND xã tổ chức thực hiện.",
                signerInfo: SignerInfo(competence: "TM. UBND", position: "Chủ tịch", fullName: "Nguyễn Thị Hương"),
                dueDate: "2025/07/30",
                toPlaces: ["Như Điều 2", "Lưu: VT"],
                otherInfo: OtherInfo(priority: 2, sphereOfPromulgation: "Liên thông văn bản quốc gia", typerNotation: "VT",
                                     promulgationAmount: 3, pageAmount: 2, direction: "Khẩn trương thực hiện", appendixes: ["Phụ lục I", "Phụ lục II"]),
                steeringType: 1,
                documentId: "000.00.20.H13,2025/07/15,125/QĐ-UBND"),
            traces: [TraceHeader(organId: "000.00.20.H13", timestamp: "2025/07/15 09:30:00")],
            business: Business(docType: .new, reason: "Văn bản mới", paper: 0,
                               staffInfo: [StaffInfo(department: "Văn phòng", staff: "Trần Văn Đức", mobile: "0912345678", email: "duc@donghy.gov.vn")]),
            attachments: attachments)
    }

    /// Writes `count` bytes of varied content (all byte values, not a multiple of 3).
    static func binaryFile(at url: URL, count: Int, seed: UInt8 = 7) throws {
        var bytes = [UInt8](repeating: 0, count: count)
        var state = UInt32(seed) &* 2_654_435_761
        for index in 0..<count {
            state = state &* 1_103_515_245 &+ 12345
            bytes[index] = UInt8(truncatingIfNeeded: state >> 16)
        }
        try Data(bytes).write(to: url)
    }

    /// A root CA and a signer certificate under it, RSA or P-256, made by openssl.
    struct PKI {
        let directory: URL
        var rootPEM: String { directory.appendingPathComponent("root.pem").path }
        var keyPEM: String { directory.appendingPathComponent("signer.key").path }
        var chainPEM: String { directory.appendingPathComponent("chain.pem").path }

        func signer() throws -> SoftwareKeySigner { try SoftwareKeySigner(keyFile: keyPEM, chainFile: chainPEM) }
    }

    static func makePKI(ecdsa: Bool) throws -> PKI {
        let directory = try temporaryDirectory()
        let key: TestPKI.KeyKind = ecdsa ? .p256 : .rsa2048
        let signer = try TestPKI(directory: directory.path, key: key, subject: "/CN=Test Root CA edXML/O=Commune Gateway Tests")
            .issue("signer", subject: "/CN=Nguyễn Thị Hương/O=UBND xã Đồng Hỷ", key: key,
                   extensions: "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n")
        try String(contentsOfFile: signer.chain, encoding: .utf8).write(toFile: "\(directory.path)/chain.pem", atomically: true, encoding: .utf8)
        return PKI(directory: directory)
    }

    static func toolAvailable(_ path: String) -> Bool { FileManager.default.isExecutableFile(atPath: path) }
}
