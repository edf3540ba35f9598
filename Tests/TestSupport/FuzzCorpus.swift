import Foundation

/// The committed fuzz corpora (fuzz/corpus/TARGET, minimised by `scripts/fuzz-parsers TARGET
/// merge`): the corpus replay tests feed every file to the same `…Fuzzing` entry the fuzzer
/// calls, so what the long runs found keeps being checked by the ordinary test command.
public enum FuzzCorpus {
    /// Every file of one target's corpus, by name, in a stable order; fails loudly when the
    /// folder is missing or empty, so that a moved corpus cannot pass as "nothing crashed".
    public static func files(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let folder = repositoryRoot.appendingPathComponent("fuzz/corpus/\(target)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        guard !names.isEmpty else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: folder.path]) }
        return try names.map { ($0, Array(try Data(contentsOf: folder.appendingPathComponent($0)))) }
    }
}
