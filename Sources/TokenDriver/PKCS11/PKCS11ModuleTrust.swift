// Whether a PKCS#11 module may be loaded at all: dlopen runs the library's code inside the
// process (its constructors first, then every call), with the process's rights and the PINs it
// is given, so whoever can write the file, or rename entries in a directory above it, chooses
// that code. On a box the SMB shares are writable by every clerk's PC: a module reachable from
// them must never be loaded.
#if canImport(Glibc)
import Glibc
#endif

package enum PKCS11ModuleTrust {
    package enum Verdict: Sendable, Equatable {
        /// `realPath`: the file with every link resolved, which is what is then opened, so a link
        /// changed between this judgement and `dlopen` changes nothing.
        case trusted(realPath: String)
        case refused(String)
    }

    /// The module's real path (links resolved: a link to /usr/lib/… is judged as /usr/lib/…) and
    /// every directory above it must be owned by root or by `effectiveUser` (the process's: a
    /// user's own module in their own 0755 home passes for their `gateway-token`) and writable by
    /// neither group nor others. A sticky world-writable directory (/tmp) is refused too: the
    /// sticky bit stops others deleting a file, not making a new name the configuration points to.
    package static func judge(_ path: String, effectiveUser: uid_t = geteuid()) -> Verdict {
        guard let resolved = realpath(path, nil) else {
            return .refused("không tìm được đường dẫn thật / cannot resolve \(path): \(String(cString: strerror(errno)))")
        }
        let real = String(cString: resolved)
        free(resolved)
        var current = real
        var what = ("tệp", "file")
        while true {
            var info = stat()
            guard stat(current, &info) == 0 else {
                return .refused("không đọc được / cannot stat \(current) (\(path)): \(String(cString: strerror(errno)))")
            }
            if let fault = fault(info, effectiveUser: effectiveUser) {
                let link = real == path ? "" : " (\(path) → \(real))"
                return .refused("mô-đun không đáng tin, không nạp / untrusted module, not loaded: \(path)\(link): \(what.0) \(current) \(fault.vietnamese) / "
                    + "the \(what.1) \(current) is \(fault.english) (owner \(owner(info.st_uid)), mode \(String(info.st_mode & 0o7777, radix: 8)));"
                    + " whoever can write it could run code inside this process: the module and every directory above it must be root's"
                    + " (or this user's) and not writable by group or others (docs/tokens.md)")
            }
            if current == "/" { return .trusted(realPath: real) }
            let parent = current.lastIndex(of: "/").map { String(current[..<$0]) } ?? "/"
            current = parent.isEmpty ? "/" : parent
            what = ("thư mục", "directory")
        }
    }

    private static func fault(_ info: stat, effectiveUser: uid_t) -> (vietnamese: String, english: String)? {
        if info.st_uid != 0, info.st_uid != effectiveUser {
            return ("thuộc người dùng khác", "owned by another user than root or this process's")
        }
        if info.st_mode & 0o002 != 0 { return ("ai cũng ghi được", "writable by others") }
        if info.st_mode & 0o020 != 0 { return ("nhóm ghi được", "writable by its group") }
        return nil
    }

    /// `name (uid)` when the account is known, else the number.
    private static func owner(_ uid: uid_t) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 1024)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else { return "\(uid)" }
        return "\(String(cString: name)) (\(uid))"
    }
}
