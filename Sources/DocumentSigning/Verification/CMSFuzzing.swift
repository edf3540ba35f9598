/// The one entry through which both the fuzzer (fuzz/FuzzCMS.swift, scripts/fuzz-parsers cms)
/// and the corpus replay test (Tests/DocumentSigningTests/FuzzCorpusTests.swift) feed bytes to
/// the CMS reader, so that what the fuzzer found is what the tests keep checking. A signature
/// taken out of a received PDF is untrusted input: any byte string must give a value or a
/// thrown error, never a trap.
package enum CMSFuzzing {
    package static func readOne(_ bytes: [UInt8]) {
        guard let parsed = try? CMSSignedDataParser.parse(bytes) else { return }
        // What verification reads next: the names and the timestamp tokens, parsed the same way.
        for certificate in parsed.certificates { _ = certificate.subject.description }
        if case .issuerAndSerial(let issuer, _) = parsed.signerIdentifier { _ = issuer.description }
        for token in parsed.timestampTokens { _ = try? CMSSignedDataParser.parse(token) }
    }
}
