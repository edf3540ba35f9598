// `[tokens]` and `[[tokens.module_for]]` (docs/configuration.md, docs/tokens.md): which PKCS#11
// module serves which token, read and checked for the configuration loader. Plain paths and
// texts here: GatewayCore never loads a module (SessionTokens and gatewayd do, through TokenDriver).
import TOMLKit

extension GatewayConfiguration {
    package struct Tokens: Sendable, Equatable {
        /// Debian's opensc-pkcs11 package puts OpenSC's module here (amd64; `opensc_module` elsewhere).
        package static let defaultOpenSCModule = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"

        /// Modules without a reader (SoftHSM2, a network HSM): their slots are listed at start
        /// and on demand, each token shown and usable beside the tokens in readers.
        package var modules: [String] = []
        /// What serves a card in a reader that OpenSC supports and PIV does not (ePass2003, IDPrime).
        package var openSCModule: String = Tokens.defaultOpenSCModule
        /// A vendor's module for one token model, by ATR or USB id: wins over PIV and OpenSC.
        package var moduleFor: [ModuleChoice] = []
        /// `module_dir`: where a module named without a `/` is (a vendor's, copied there by the
        /// technician: the image's root is read-only, the data partition is not); nil:
        /// `<data_dir>/modules` (`GatewayConfiguration.resolvedTokens`).
        package var moduleDirectory: String?

        package init(modules: [String] = [], openSCModule: String = Tokens.defaultOpenSCModule, moduleFor: [ModuleChoice] = [], moduleDirectory: String? = nil) {
            (self.modules, self.openSCModule, self.moduleFor, self.moduleDirectory) = (modules, openSCModule, moduleFor, moduleDirectory)
        }

        /// Every module as a path: a bare name is that file in `directory`, an absolute path stays.
        package func resolved(in directory: String) -> Tokens {
            func path(_ name: String) -> String { Self.isBareName(name) ? directory + "/" + name : name }
            return Tokens(modules: modules.map(path), openSCModule: path(openSCModule),
                          moduleFor: moduleFor.map { var choice = $0; choice.module = path($0.module); return choice }, moduleDirectory: directory)
        }

        /// A file name alone (`libvnpt-ca.so`), which is looked for in `module_dir`.
        package static func isBareName(_ name: String) -> Bool { !name.contains("/") && name != "." && name != ".." && !name.isEmpty }
    }

    /// `[[tokens.module_for]]`: the token whose ATR starts with `atr` (hex, as `token list`
    /// shows it) and/or whose USB id is `usb` (`096e:0807`) is served by `module`.
    package struct ModuleChoice: Sendable, Equatable {
        package var atr: String?
        package var usb: String?
        package var name: String?
        package var module: String

        package init(atr: String? = nil, usb: String? = nil, name: String? = nil, module: String) {
            (self.atr, self.usb, self.name, self.module) = (atr, usb, name, module)
        }
    }
}

extension ConfigurationLoader.Reader {
    mutating func readTokens(_ table: TOMLTable, into tokens: inout GatewayConfiguration.Tokens) {
        let moduleHint = "a file name in module_dir (\"libvnpt-ca.so\", for /var/lib/gatewayd/modules/libvnpt-ca.so) or an absolute path, e.g. \"/usr/lib/softhsm/libsofthsm2.so\""
        if let directory = absolutePath(table, "tokens", "module_dir", example: "/var/lib/gatewayd/modules") { tokens.moduleDirectory = directory }
        if let value = table["modules"] {
            if let array = value.array {
                for (index, item) in array.enumerated() {
                    if let name = item.string, let module = moduleName(name, key: "tokens.modules", item: index + 1, hint: moduleHint) {
                        tokens.modules.append(module)
                    } else if item.string == nil {
                        issue("tokens.modules", "mục \(index + 1) phải là tên hoặc đường dẫn tệp / item \(index + 1) must be a file name or path: \(item.tomlValue.debugDescription)",
                              hint: moduleHint)
                    }
                }
            } else {
                issue("tokens.modules", "phải là danh sách mô-đun PKCS#11 / must be a list of PKCS#11 modules", hint: "modules = [\"/usr/lib/softhsm/libsofthsm2.so\"]")
            }
        }
        if let name = string(table, "tokens", "opensc_module"),
           let module = moduleName(name, key: "tokens.opensc_module", hint: "e.g. opensc_module = \"\(GatewayConfiguration.Tokens.defaultOpenSCModule)\"") {
            tokens.openSCModule = module
        }
        guard let value = table["module_for"] else { return }
        guard let array = value.array, array.allSatisfy({ $0.table != nil }) else {
            issue("tokens.module_for", "mỗi mục là một bảng [[tokens.module_for]] / each entry is a table [[tokens.module_for]]",
                  hint: "write [[tokens.module_for]] (two brackets) above each token model's atr or usb and module")
            return
        }
        for (index, item) in array.enumerated() {
            let entry = item.table!
            let label = "tokens.module_for[\(index + 1)]"
            checkKeys(entry, section: "tokens.module_for", label: label)
            var choice = GatewayConfiguration.ModuleChoice(module: "")
            if let atr = string(entry, label, "atr") {
                let digits = atr.filter { !$0.isWhitespace && $0 != ":" }.uppercased()
                if !digits.isEmpty, digits.count.isMultiple(of: 2), digits.allSatisfy(\.isHexDigit) { choice.atr = digits } else {
                    issue("\(label).atr", "\"\(atr)\" không phải ATR dạng hex / is not an ATR in hex",
                          hint: "the ATR (or its first bytes) as `gatewayd token list` shows it, e.g. atr = \"3B9F9681B1FE451F07\"")
                }
            }
            if let usb = string(entry, label, "usb") {
                let parts = usb.lowercased().split(separator: ":")
                if parts.count == 2, parts.allSatisfy({ $0.count == 4 && $0.allSatisfy(\.isHexDigit) }) { choice.usb = usb.lowercased() } else {
                    issue("\(label).usb", "\"\(usb)\" không phải mã USB VID:PID / is not a USB VID:PID", hint: "four hex digits each, e.g. usb = \"096e:0807\"")
                }
            }
            if entry["atr"] == nil, entry["usb"] == nil {
                issue(label, "cần atr hoặc usb để biết token nào / needs atr or usb to say which token", hint: "e.g. usb = \"096e:0807\" (from `gatewayd token list`)")
            }
            choice.name = string(entry, label, "name")
            if let name = requiredText(entry, label, "module", hint: moduleHint), let module = moduleName(name, key: "\(label).module", hint: moduleHint) {
                choice.module = module
            }
            if !choice.module.isEmpty, choice.atr != nil || choice.usb != nil { tokens.moduleFor.append(choice) }
        }
    }

    /// A module as written: an absolute path, or a file name alone for `module_dir`. A relative
    /// path with a `/` (`a/b.so`, `../x.so`) is refused: relative to what would depend on where
    /// the daemon was started, and `..` could leave the module directory.
    mutating func moduleName(_ name: String, key: String, item: Int? = nil, hint: String) -> String? {
        if name.hasPrefix("/") || GatewayConfiguration.Tokens.isBareName(name) { return name }
        let which: (vi: String, en: String) = item.map { ("mục \($0) ", "item \($0) ") } ?? ("", "")
        issue(key, "\(which.vi)\"\(name)\" là đường dẫn tương đối: chỉ ghi tên tệp (trong module_dir) hoặc đường dẫn tuyệt đối / "
              + "\(which.en)\"\(name)\" is a relative path: write a file name alone (looked for in module_dir) or an absolute path", hint: hint)
        return nil
    }
}
