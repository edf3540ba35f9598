import Inflate

/// A PIV certificate object marked compressed (CertInfo bit 0) holds a gzipped DER certificate
/// of a few KB; the card is untrusted, so the output has a ceiling.
package enum GzipInflater {
    package typealias Failure = Inflater.Failure

    static func inflate(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        try Inflater.inflate(input, format: .gzip, limit: limit)
    }
}
