import DocumentSigning
import Foundation
import X509

/// EST's answers (RFC 7030 §4.1.3, §4.2.3) as the box receives them: base64 (any line breaks) of
/// a certs-only CMS message, read by `CMSCertificatesOnly`. Only the certificates are taken: the
/// TLS channel, checked against `[upstream] ca_file`, is what vouches for them.
package enum CertsOnly {
    /// The certificates in the order the hub put them (the issued one first).
    package static func certificates(fromBody body: [UInt8]) throws(EnrolmentError) -> [Certificate] {
        let text = String(decoding: body, as: UTF8.self).filter { !$0.isWhitespace }
        guard let der = Data(base64Encoded: text), !der.isEmpty else { throw .badAnswer("không phải base64 / not base64") }
        let certificates: [Certificate]
        do { certificates = try CMSCertificatesOnly.decode(Array(der)) } catch { throw .badAnswer("PKCS#7: \(error)") }
        guard !certificates.isEmpty else { throw .badAnswer("không có chứng thư số nào / no certificate in it") }
        return certificates
    }
}
