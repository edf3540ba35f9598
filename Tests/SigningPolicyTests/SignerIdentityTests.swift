import Foundation
import SigningPolicy
import TestSupport
import X509
import XCTest

/// Whose certificate: a person's (CCCD/CMND/HC) or an organization's (MST, MNS, agency code),
/// read from UID, serialNumber or CN as Vietnamese CAs write them.
final class SignerIdentityTests: XCTestCase {
    typealias T = TestCertificates

    func testAPersonsCertificateCarriesCCCDInUID() throws {
        let signer = try SignerIdentity(certificate: T.make(T.leader))
        XCTAssertEqual(signer.kind, .person)
        XCTAssertEqual(signer.identifier.description, "CCCD:001234567890")
        XCTAssertEqual(signer.identifier.kind, .cccd)
        XCTAssertEqual(signer.source, .uid)
        XCTAssertEqual(signer.displayName, "Nguyễn Văn An")
    }

    func testAnOrganizationsCertificateCarriesItsTaxCode() throws {
        let signer = try SignerIdentity(certificate: T.make(T.commune))
        XCTAssertEqual(signer.kind, .organization)
        XCTAssertEqual(signer.identifier.description, "MST:0401234567")
        XCTAssertEqual(signer.organizationName, "UBND xã Hòa Tiến")
    }

    func testTheAgencyCodeAloneOrAfterAPrefixMakesAnOrganization() throws {
        for value in ["000.00.20.H13", "MDD:000.00.20.H13"] {
            let signer = try SignerIdentity(certificate: T.make([(T.uid, value), (T.cn, "UBND xã Hòa Tiến")]))
            XCTAssertEqual(signer.kind, .organization, value)
            XCTAssertEqual(signer.identifier.kind, .agencyCode, value)
            XCTAssertEqual(signer.identifier.value, "000.00.20.H13", value)
        }
        // A bare code in the CN is how the box's own TLS certificate is named: not an identity.
        XCTAssertThrowsError(try SignerIdentity(certificate: T.make([(T.cn, "000.00.20.H13")])))
    }

    func testSerialNumberAndCommonNameAreAlsoRead() throws {
        let inSerial = try SignerIdentity(certificate: T.make([(T.serialNumber, "CMND:123456789"), (T.cn, "Trần Thị Bình")]))
        XCTAssertEqual(inSerial.kind, .person)
        XCTAssertEqual(inSerial.identifier.description, "CMND:123456789")
        XCTAssertEqual(inSerial.source, .serialNumber)

        let inName = try SignerIdentity(certificate: T.make([(T.cn, "Lê Văn Cường - cccd: 079012345678")]))
        XCTAssertEqual(inName.kind, .person)
        XCTAssertEqual(inName.identifier.description, "CCCD:079012345678")
        XCTAssertEqual(inName.source, .commonName)
        XCTAssertEqual(inName.displayName, "Lê Văn Cường")

        let passport = try SignerIdentity(certificate: T.make([(T.uid, "HC:C1234567"), (T.cn, "Phạm Minh Đức")]))
        XCTAssertEqual(passport.identifier.kind, .passport)
    }

    /// A person's certificate "of an organization" carries both: the person signs as themselves.
    func testAPersonalIdentifierWinsOverAnOrganizations() throws {
        let signer = try SignerIdentity(certificate: T.make([(T.uid, "MST:0401234567"), (T.uid, T.leaderCCCD),
                                                             (T.cn, "Nguyễn Văn An"), (T.o, "UBND xã Hòa Tiến")]))
        XCTAssertEqual(signer.kind, .person)
        XCTAssertEqual(signer.identifier.description, T.leaderCCCD)
        XCTAssertEqual(signer.identifiers.map(\.description), ["MST:0401234567", T.leaderCCCD])
    }

    func testNoIdentifierOrAMalformedOneIsRefused() throws {
        XCTAssertThrowsError(try SignerIdentity(certificate: T.make([(T.cn, "Nguyễn Văn An")]))) {
            XCTAssertEqual(($0 as? SigningRefusal)?.code, .noIdentifier)
        }
        XCTAssertThrowsError(try SignerIdentity(certificate: T.make([(T.uid, "CCCD:12345"), (T.cn, "Nguyễn Văn An")]))) {
            XCTAssertEqual(($0 as? SigningRefusal)?.code, .malformedIdentifier)
            XCTAssertTrue(($0 as? SigningRefusal)?.message.contains("UID=CCCD:12345") ?? false)
        }
    }

    func testIdentifiersParseAsTheConfigurationWritesThem() {
        XCTAssertEqual(SubjectIdentifier(" cccd : 001234567890 ")?.description, "CCCD:001234567890")
        XCTAssertEqual(SubjectIdentifier("MST:0401234567-001")?.kind, .taxCode)
        XCTAssertEqual(SubjectIdentifier("MNS:1234567")?.kind, .budgetCode)
        XCTAssertNil(SubjectIdentifier("CCCD:00123456789"))  // 11 digits
        XCTAssertNil(SubjectIdentifier("MST:12345"))
        XCTAssertNil(SubjectIdentifier("Nguyễn Văn An"))
    }

    /// An independent issuer: openssl writes `/UID=…` (the same OID, 0.9.2342.19200300.100.1.1).
    func testACertificateMadeByOpenSSLWithUID() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { throw XCTSkip("needs /usr/bin/openssl") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("signing-policy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI(directory: directory)
        let person = try pki.issue("leader", subject: "/UID=CCCD:001234567890/CN=Nguyễn Văn An/C=VN", key: .p256)
        let organization = try pki.issue("seal", subject: "/UID=MST:0401234567/CN=UBND xã Hòa Tiến/O=UBND xã Hòa Tiến/C=VN", key: .p256)

        let leader = try SignerIdentity(certificate: Certificate(pemEncoded: String(contentsOfFile: person.chain, encoding: .utf8)))
        XCTAssertEqual(leader.kind, .person)
        XCTAssertEqual(leader.identifier.description, "CCCD:001234567890")
        XCTAssertEqual(leader.displayName, "Nguyễn Văn An")
        let seal = try SignerIdentity(certificate: Certificate(pemEncoded: String(contentsOfFile: organization.chain, encoding: .utf8)))
        XCTAssertEqual(seal.kind, .organization)
        XCTAssertEqual(seal.organizationName, "UBND xã Hòa Tiến")
    }
}
