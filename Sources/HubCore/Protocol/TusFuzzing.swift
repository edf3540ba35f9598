/// The one entry through which both the fuzzer (fuzz/FuzzTus.swift, scripts/fuzz-parsers tus)
/// and the corpus replay test (Tests/HubCoreTests/FuzzCorpusTests.swift) feed header values to
/// the tus parsers. Any box, or anything that reaches the port, writes these headers: every value
/// must give a typed value or a HubError, never a trap.
package enum TusFuzzing {
    package static func readOne(_ bytes: [UInt8]) {
        // Header fields arrive as text; invalid UTF-8 is replaced, as HTTPTypes hands it to us.
        let value = String(decoding: bytes, as: UTF8.self)
        if let metadata = try? Tus.parseMetadata(value) {
            // What intake does with it: every key is ASCII without space or comma.
            for key in metadata.keys where key.isEmpty || key.contains(" ") || key.contains(",") {
                fatalError("Upload-Metadata key \(key.debugDescription) passed")
            }
        }
        if let number = try? Tus.parseNonNegative(value, name: "Upload-Offset"), number < 0 { fatalError("negative \(number)") }
        _ = try? Tus.checkVersion(value)
    }
}
