// The first certificate of a PEM file — a chain file starts with its leaf: the box's relay
// certificate, the console's. One reader for the doctor, the console's overview and its CA.
import Foundation
import SwiftASN1
import X509

package enum CertificateFile {
    package static func first(inPEMFile path: String) throws -> Certificate {
        let documents = try PEMDocument.parseMultiple(pemString: String(contentsOfFile: path, encoding: .utf8))
        guard let first = documents.first else { throw ASN1Error.invalidPEMDocument(reason: "no certificate in \(path)") }
        return try Certificate(pemDocument: first)
    }
}
