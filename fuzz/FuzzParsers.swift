// libFuzzer entry for the parsers scripts/fuzz-parsers fuzzes, one binary per target: the
// script compiles this file with -D FUZZ_<TARGET> next to that parser's sources. The work is in
// each parser's `…Fuzzing` entry, which the corpus replay tests call too.
#if FUZZ_XMLDSIG
import Dispatch
#endif

@_cdecl("LLVMFuzzerTestOneInput")
// `public`: the one entry libFuzzer calls by its C name, kept exported by the optimized build.
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    #if FUZZ_CMS
    CMSFuzzing.readOne(bytes)
    #elseif FUZZ_TRUETYPE
    AppearanceFuzzing.readFont(bytes)
    #elseif FUZZ_PNG
    AppearanceFuzzing.readImage(bytes)
    #elseif FUZZ_TUS
    TusFuzzing.readOne(bytes)
    #elseif FUZZ_FORWARDED_CERT
    ForwardedIdentityFuzzing.readOne(bytes)
    #elseif FUZZ_XMLDSIG
    // Checking is async (the trust path awaits the verifier); without trust roots nothing
    // suspends, so one wait per input costs a thread hop, not a delay.
    let done = DispatchSemaphore(value: 0)
    Task {
        await SignatureFuzzing.checkOne(bytes)
        done.signal()
    }
    done.wait()
    #endif
    return 0
}
