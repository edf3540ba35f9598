#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import DurableFiles
#if canImport(Glibc)
import Glibc
#endif

/// Which backend and module serve a token (issue 18): the configuration's `[[tokens.module_for]]`
/// first (a vendor module named for the token's ATR or USB id), then PIV for a card that answers
/// the PIV application, then OpenSC's opensc-pkcs11.so for a model `TokenModel.table` marks as
/// OpenSC's; anything else is served by nothing, and the answer says what to install.
/// Modules without a reader (SoftHSM2, a network HSM) are not chosen here: they are listed as
/// they are (`[tokens] modules`), each token in them served by its module.
package struct TokenModuleTable: Sendable, Equatable {
    package struct Choice: Sendable, Equatable {
        /// Hex, upper case, a prefix of the token's ATR; nil: any ATR.
        package var atr: String?
        /// `vvvv:pppp`, lower case; nil: any USB id.
        package var usb: String?
        package var module: String

        package init(atr: String?, usb: String?, module: String) {
            (self.atr, self.usb, self.module) = (atr?.uppercased(), usb?.lowercased(), module)
        }
    }

    package enum Serving: Sendable, Equatable, CustomStringConvertible {
        case piv
        /// `because`: why this module (the configuration's entry, OpenSC's driver for the model).
        case pkcs11(module: String, because: String)
        /// No module serves the token; `advice` says what to install or configure.
        case none(advice: String)

        package var backend: String {
            switch self {
            case .piv: "piv"
            case .pkcs11: "pkcs11"
            case .none: "none"
            }
        }

        package var module: String? { if case .pkcs11(let module, _) = self { module } else { nil } }

        package var description: String {
            switch self {
            case .piv: "PIV (PC/SC)"
            case .pkcs11(let module, let because): "PKCS#11 \(module) (\(because))"
            case .none(let advice): "không mô-đun nào phục vụ / no module serves it: \(advice)"
            }
        }
    }

    package var choices: [Choice]
    package var openSCModule: String

    package init(choices: [Choice] = [], openSCModule: String = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so") {
        self.choices = choices
        self.openSCModule = openSCModule
    }

    /// `atr`: hex as `token list` shows it; `usb`: `vvvv:pppp`; `piv`: the card answered SELECT PIV.
    package func serving(atr: String?, usb: String?, piv: Bool) -> Serving {
        let atr = atr?.uppercased()
        if let choice = choices.first(where: { choice in
            (choice.atr == nil || atr?.hasPrefix(choice.atr!) == true) && (choice.usb == nil || choice.usb == usb?.lowercased())
        }) {
            return .pkcs11(module: choice.module, because: "[[tokens.module_for]] " + [choice.atr.map { "atr \($0)" }, choice.usb.map { "usb \($0)" }].compactMap { $0 }.joined(separator: ", "))
        }
        if piv { return .piv }
        let model = usb.flatMap(Self.model(usb:))
        if let model, model.opensc {
            guard FileManager.default.fileExists(atPath: openSCModule) else {
                return .none(advice: "\(model.name): cài OpenSC / install OpenSC's module (apt install opensc-pkcs11), or set [tokens] opensc_module (\(openSCModule) is missing)")
            }
            return .pkcs11(module: openSCModule, because: "OpenSC supports the \(model.name)")
        }
        let what = model?.name ?? "token " + ([usb.map { "USB \($0)" }, atr.map { "ATR \($0)" }].compactMap { $0 }.joined(separator: ", "))
        return .none(advice: "\(what): cài mô-đun PKCS#11 của nhà cung cấp vào /var/lib/gatewayd/modules và khai báo trong [[tokens.module_for]] / install the vendor's PKCS#11 module (its CA ships it) and name it in [[tokens.module_for]] with this token's atr or usb (docs/tokens.md)")
    }

    static func model(usb: String) -> TokenModel? {
        let parts = usb.split(separator: ":")
        guard parts.count == 2, let vendor = UInt16(parts[0], radix: 16), let product = UInt16(parts[1], radix: 16) else { return nil }
        return TokenModel.matching(vendorID: vendor, productID: product)
    }
}

/// A module file looked at before `dlopen` (issue 18: "a module is checked before it is used"),
/// so that a missing file, a text file or another architecture's library is named plainly rather
/// than through dlopen's message, and one that others could have written is never opened
/// (`PKCS11ModuleTrust`). Whether it is PKCS#11 (`C_GetFunctionList`) is `PKCS11Module`'s.
package enum PKCS11ModuleFile {
    /// Why the file cannot be a module of this machine or may not be trusted, or nil when it may be one.
    package static func problem(_ path: String) -> String? {
        if case .refused(let reason) = judged(path) { reason } else { nil }
    }

    /// What `dlopen` is given for `path`: its real path, once the file is a library of this
    /// machine and it and the directories above it are trusted; else the reason, as a load failure.
    package static func opened(_ path: String) throws(PKCS11Error) -> String {
        switch judged(path) {
        case .trusted(let realPath): return realPath
        case .refused(let reason): throw .module(path: path, reason: reason)
        }
    }

    private static func judged(_ path: String) -> PKCS11ModuleTrust.Verdict {
        if let problem = fileProblem(path) { return .refused(problem) }
        let verdict = PKCS11ModuleTrust.judge(path)
        // A module whose probe crashed or hung is not opened in this process at all.
        if case .trusted(let realPath) = verdict, let reason = PKCS11ModuleProbe.refusal(realPath: realPath) { return .refused(reason) }
        return verdict
    }

    private static func fileProblem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return "không có tệp / no such file: \(path) (cài mô-đun hoặc sửa đường dẫn / install the module or fix the path)"
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return "không phải tệp thường / not a regular file: \(path)" }
        guard let header = POSIXFile.readPrefix(path, upTo: 20) else { return "không đọc được / cannot read \(path)" }
        guard header.count == 20, header.prefix(4) == [0x7F, 0x45, 0x4C, 0x46] else {
            return "không phải thư viện ELF, không phải mô-đun PKCS#11 / not an ELF library, so not a PKCS#11 module: \(path)"
        }
        // e_ident[EI_CLASS] 2 = 64-bit; e_machine (little-endian, offset 18): 62 x86-64, 183 AArch64.
        let machine = UInt16(header[18]) | UInt16(header[19]) << 8
        guard header[4] == 2, machine == hostMachine else {
            return "mô-đun cho kiến trúc khác / a module for another architecture (ELF machine \(machine), this box \(hostMachine)): \(path)"
        }
        return nil
    }

    /// `problem(path)`, then whether the library exports `C_GetFunctionList` (opened and closed
    /// again, nothing initialised): for `config check`, which must not start a module.
    package static func checked(_ path: String) -> String? {
        let file: String
        switch judged(path) {
        case .trusted(let realPath): file = realPath
        case .refused(let reason): return reason
        }
        guard let handle = dlopen(file, RTLD_LAZY | RTLD_LOCAL) else {
            return "không nạp được / cannot load \(path): " + (dlerror().map { String(cString: $0) } ?? "dlopen")
        }
        defer { dlclose(handle) }
        guard dlsym(handle, "C_GetFunctionList") != nil else {
            return "không có C_GetFunctionList, không phải mô-đun PKCS#11 / no C_GetFunctionList: not a PKCS#11 module: \(path)"
        }
        return nil
    }

    #if arch(arm64)
    static let hostMachine: UInt16 = 183
    #else
    static let hostMachine: UInt16 = 62
    #endif
}
