import DocumentModel
import Foundation
import SigningPolicy
import X509
import XCTest

/// Who may sign in which role: each refusal of issue 13 with its code, and what is allowed.
final class SignerCheckTests: XCTestCase {
    typealias T = TestCertificates

    let leaders = [ConfiguredLeader(name: "Nguyễn Văn An", title: "CHỦ TỊCH", identity: SubjectIdentifier(T.leaderCCCD)!,
                                    signatureImage: "/etc/gatewayd/chu-tich.png")]
    let agency = SigningAgency(code: AgencyCode("000.00.20.H13"), name: "UBND xã Hòa Tiến", taxCode: T.communeMST)

    func decide(_ role: SigningRole, _ certificate: Certificate, agency: SigningAgency? = nil,
                revocation: RevocationFinding = .good, requireRevocation: Bool = false) -> SigningDecision {
        SignerCheck.decide(role: role, certificate: certificate, leaders: leaders, agency: agency ?? self.agency,
                           revocation: revocation, requireRevocation: requireRevocation, now: T.now)
    }

    func refusal(_ decision: SigningDecision, file: StaticString = #filePath, line: UInt = #line) -> SigningRefusal.Code? {
        guard case .refused(let refusal) = decision else {
            XCTFail("allowed: \(decision)", file: file, line: line)
            return nil
        }
        XCTAssertTrue(refusal.vietnamese.count > 10 && refusal.english.count > 10, file: file, line: line)
        return refusal.code
    }

    func authorization(_ decision: SigningDecision, file: StaticString = #filePath, line: UInt = #line) -> SigningAuthorization? {
        guard case .allowed(let authorization) = decision else {
            XCTFail("refused: \(decision)", file: file, line: line)
            return nil
        }
        return authorization
    }

    func testAConfiguredLeaderSignsAsLeader() throws {
        let allowed = authorization(decide(.leader, try T.make(T.leader)))
        XCTAssertEqual(allowed?.signatory, .leader(leaders[0]))
        XCTAssertEqual(allowed?.revocation, .good)
        XCTAssertEqual(allowed?.warnings, [])
    }

    /// The identity, not the certificate: a renewed certificate (new key, new dates) still signs.
    func testARenewedCertificateOfTheSameLeaderStillSigns() throws {
        let renewed = try T.make([(T.uid, "CCCD: 001234567890"), (T.cn, "Nguyễn Văn An")], notBefore: T.now.addingTimeInterval(-60))
        XCTAssertEqual(authorization(decide(.leader, renewed))?.signatory, .leader(leaders[0]))
    }

    func testALeaderSessionRefusesTheOrganizationsCertificate() throws {
        XCTAssertEqual(refusal(decide(.leader, try T.make(T.commune))), .organizationInLeaderSession)
    }

    func testALeaderSessionRefusesAPersonNotConfigured() throws {
        let stranger = try T.make([(T.uid, "CCCD:079012345678"), (T.cn, "Lê Văn Cường")])
        XCTAssertEqual(refusal(decide(.leader, stranger)), .leaderNotConfigured)
    }

    func testTheCommunesCertificateSeals() throws {
        XCTAssertEqual(authorization(decide(.organization, try T.make(T.commune)))?.signatory, .organization)
        // Attachments and copies are the organization's too.
        XCTAssertEqual(authorization(decide(.attachment, try T.make(T.commune)))?.signatory, .organization)
        XCTAssertEqual(authorization(decide(.copy, try T.make(T.commune)))?.signatory, .organization)
    }

    func testTheNameMatchesAcrossSpellings() throws {
        let spelled = try T.make([(T.uid, "MST:\(T.communeMST)"), (T.cn, "ỦY BAN NHÂN DÂN XÃ HOÀ TIẾN")])
        XCTAssertNotNil(authorization(decide(.organization, spelled)))
        let byO = try T.make([(T.uid, "MST:\(T.communeMST)"), (T.cn, "Văn thư"), (T.o, "Uỷ ban nhân dân  xã Hòa Tiến")])
        XCTAssertNotNil(authorization(decide(.organization, byO)))
    }

    func testTheAgencyCodeIdentifiesTheCommune() throws {
        let byCode = try T.make([(T.uid, "000.00.20.H13"), (T.cn, "UBND xã Hòa Tiến")])
        XCTAssertNotNil(authorization(decide(.organization, byCode, agency: SigningAgency(code: AgencyCode("000.00.20.H13"), name: "UBND xã Hòa Tiến"))))
    }

    func testASealSessionRefusesAPersonsCertificate() throws {
        XCTAssertEqual(refusal(decide(.organization, try T.make(T.leader))), .personInSealSession)
    }

    func testASealSessionRefusesAnotherOrganization() throws {
        let neighbour = try T.make([(T.uid, "MST:0409999999"), (T.cn, "UBND xã Hòa Phong"), (T.o, "UBND xã Hòa Phong")])
        XCTAssertEqual(refusal(decide(.organization, neighbour)), .otherOrganization)
        // Its own tax code under another name (a namesake commune, a wrong configuration): refused.
        let renamed = try T.make([(T.uid, "MST:\(T.communeMST)"), (T.cn, "UBND xã Hòa Tiến Bắc")])
        XCTAssertEqual(refusal(decide(.organization, renamed)), .otherOrganization)
    }

    func testAnOrganizationCannotBeToldWithoutTheCommunesIdentifier() throws {
        let unconfigured = SigningAgency(code: AgencyCode("000.00.20.H13"), name: "UBND xã Hòa Tiến")
        let decision = decide(.organization, try T.make(T.commune), agency: unconfigured)
        XCTAssertEqual(refusal(decision), .organizationNotConfigured)
        if case .refused(let refusal) = decision { XCTAssertTrue(refusal.english.contains("[agency] tax_code")) }
    }

    func testExpiredAndNotYetValidCertificatesAreRefused() throws {
        let expired = try T.make(T.leader, notBefore: T.now.addingTimeInterval(-400 * 86_400), notAfter: T.now.addingTimeInterval(-1))
        XCTAssertEqual(refusal(decide(.leader, expired)), .expired)
        let early = try T.make(T.commune, notBefore: T.now.addingTimeInterval(60))
        XCTAssertEqual(refusal(decide(.organization, early)), .notYetValid)
    }

    func testKeyUsageMustAllowSignatures() throws {
        let encipherment = try T.make(T.leader, keyUsage: KeyUsage(keyEncipherment: true))
        XCTAssertEqual(refusal(decide(.leader, encipherment)), .keyUsage)
        XCTAssertNotNil(authorization(decide(.leader, try T.make(T.leader, keyUsage: KeyUsage(nonRepudiation: true)))))
        // No key usage extension: every use is allowed (RFC 5280 §4.2.1.3).
        XCTAssertNotNil(authorization(decide(.leader, try T.make(T.leader, keyUsage: nil))))
    }

    func testRevocationIsRefusedWhenRevokedAndReportedAsItIsOtherwise() throws {
        let certificate = try T.make(T.leader)
        XCTAssertEqual(refusal(decide(.leader, certificate, revocation: .revoked(reason: "keyCompromise"))), .revoked)

        let unknown = authorization(decide(.leader, certificate, revocation: .unknown(reason: "OCSP unreachable")))
        XCTAssertEqual(unknown?.revocation, .unknown(reason: "OCSP unreachable"))
        XCTAssertEqual(unknown?.revocation.word, "unknown")
        XCTAssertEqual(unknown?.warnings.count, 1)
        XCTAssertEqual(authorization(decide(.leader, certificate, revocation: .notChecked))?.revocation.word, "not-checked")

        XCTAssertEqual(refusal(decide(.leader, certificate, revocation: .unknown(reason: "x"), requireRevocation: true)), .revocationRequired)
        XCTAssertEqual(refusal(decide(.leader, certificate, revocation: .notChecked, requireRevocation: true)), .revocationRequired)
    }

    /// The wrong token is the likeliest mistake, so it is named first even when the certificate
    /// has also expired.
    func testTheWrongKindIsReportedBeforeValidity() throws {
        let expiredSeal = try T.make(T.commune, notAfter: T.now.addingTimeInterval(-1))
        XCTAssertEqual(refusal(decide(.leader, expiredSeal)), .organizationInLeaderSession)
    }
}
