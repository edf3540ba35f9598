import CPKCS11
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A PKCS#11 module (opensc-pkcs11.so, SoftHSM2's libsofthsm2.so, a CA vendor's library) loaded
/// with `dlopen` from its path and reached only through the function list it hands back, so no
/// module is linked and a box can use whichever one serves its token (issue 18).
/// `C_Initialize` runs with `CKF_OS_LOCKING_OK` (the module may be called from several threads;
/// it locks with the system's mutexes) and `C_Finalize` when the value goes away.
/// `@unchecked Sendable`: the function list is immutable once loaded and the module locks itself.
package final class PKCS11Module: @unchecked Sendable {
    package let path: String
    private let handle: UnsafeMutableRawPointer
    let functions: CK_FUNCTION_LIST
    /// False when another user in this process had initialised the module already
    /// (`CKR_CRYPTOKI_ALREADY_INITIALIZED`): finalising it then would pull it from under them.
    private let owned: Bool

    /// The module at `path`, loaded once per process: PKCS#11 state (initialisation, logins) is
    /// per process, so a second instance's C_Finalize would pull the module from under the first.
    /// The instance lives while someone holds it; the next `load` after that initialises again.
    package static func load(path: String) throws(PKCS11Error) -> PKCS11Module {
        loadedLock.lock()
        defer { loadedLock.unlock() }
        loaded.removeAll { $0.module == nil }
        if let module = loaded.first(where: { $0.path == path })?.module { return module }
        // A path is looked at first: dlopen's own words for a text file or a missing one are
        // obscure, and a module others could write is never opened (PKCS11ModuleTrust). What is
        // opened is the real path that was judged, so a link changed since means nothing.
        let module = try PKCS11Module(path: path, file: path.contains("/") ? PKCS11ModuleFile.opened(path) : path)
        loaded.append(WeakModule(path: path, module: module))
        return module
    }

    private struct WeakModule {
        let path: String
        weak var module: PKCS11Module?
    }
    /// Recursive: the last reference to a module may be dropped inside `load` (the filter's
    /// temporaries), and its `deinit` takes this lock too.
    private static let loadedLock = RecursiveLock()
    /// Under loadedLock. A few modules at most, so an array: a dictionary's first use costs a
    /// one-shot program (`gateway-token sign`) a scan of every protocol conformance in the binary.
    nonisolated(unsafe) private static var loaded: [WeakModule] = []

    private init(path: String, file: String) throws(PKCS11Error) {
        guard let handle = dlopen(file, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "dlopen"
            throw .module(path: path, reason: reason)
        }
        typealias GetFunctionList = @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<CK_FUNCTION_LIST>?>?) -> CK_RV
        guard let symbol = dlsym(handle, "C_GetFunctionList") else {
            dlclose(handle)
            throw .module(path: path, reason: "không có C_GetFunctionList, không phải mô-đun PKCS#11 / no C_GetFunctionList: not a PKCS#11 module")
        }
        let getFunctionList = unsafeBitCast(symbol, to: GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        let rv = getFunctionList(&list)
        guard rv == PKCS11.CKR_OK, let list, list.pointee.version.major == 2 else {
            dlclose(handle)
            throw .module(path: path, reason: "C_GetFunctionList: \(PKCS11Error.name(of: rv))")
        }
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = PKCS11.CKF_OS_LOCKING_OK
        let initialized = withUnsafeMutablePointer(to: &arguments) { list.pointee.C_Initialize?(UnsafeMutableRawPointer($0)) } ?? PKCS11.CKR_FUNCTION_NOT_SUPPORTED
        guard initialized == PKCS11.CKR_OK || initialized == PKCS11.CKR_CRYPTOKI_ALREADY_INITIALIZED else {
            dlclose(handle)
            throw .module(path: path, reason: "C_Initialize: \(PKCS11Error.name(of: initialized))")
        }
        self.path = path
        self.handle = handle
        self.functions = list.pointee
        self.owned = initialized == PKCS11.CKR_OK
    }

    deinit {
        // Under the loading lock: once the last reference is gone, the weak entry reads nil and the
        // next `load` would C_Initialize a new instance while this C_Finalize still runs on another
        // thread (SoftHSM2 crashed so: a PIN change's module released as a session opened).
        Self.loadedLock.lock()
        defer { Self.loadedLock.unlock() }
        if owned { _ = functions.C_Finalize?(nil) }
        // Not dlclose'd: a module's own threads or atexit handlers may still point into it, and a
        // box loads each module once for its lifetime.
        _ = handle
    }

    /// Throws the named failure unless `rv` is CKR_OK.
    func check(_ rv: CK_RV?, _ function: String) throws(PKCS11Error) {
        let rv = rv ?? PKCS11.CKR_FUNCTION_NOT_SUPPORTED
        guard rv == PKCS11.CKR_OK else { throw PKCS11Error(rv: rv, function: function) }
    }

    // MARK: slots and tokens

    package struct Slot: Sendable, Equatable {
        package let id: CK_SLOT_ID
        package let description: String
        package let manufacturer: String
        /// The token in the slot, when one is present.
        package let token: TokenInfo?
    }

    package struct TokenInfo: Sendable, Equatable {
        package let label: String
        package let manufacturer: String
        package let model: String
        package let serial: String
        package let flags: CK_FLAGS

        package var loginRequired: Bool { flags & PKCS11.CKF_LOGIN_REQUIRED != 0 }
        /// False for a blank token (SoftHSM2's free slot, a new card before C_InitToken).
        package var initialized: Bool { flags & PKCS11.CKF_TOKEN_INITIALIZED != 0 }
        /// At least one wrong user PIN since the last good one. PKCS#11 gives no count of tries:
        /// only these three flags, which a module may or may not set (SoftHSM2 sets COUNT_LOW only).
        package var pinCountLow: Bool { flags & PKCS11.CKF_USER_PIN_COUNT_LOW != 0 }
        package var pinFinalTry: Bool { flags & PKCS11.CKF_USER_PIN_FINAL_TRY != 0 }
        package var pinLocked: Bool { flags & PKCS11.CKF_USER_PIN_LOCKED != 0 }
        package var pinToBeChanged: Bool { flags & PKCS11.CKF_USER_PIN_TO_BE_CHANGED != 0 }
        /// ulMinPinLen…ulMaxPinLen: the lengths in bytes the token takes for a new PIN (SoftHSM2:
        /// 4…255); nil when it gives no usable range, and then the token alone judges.
        package var pinLengths: ClosedRange<Int>? = nil

        static func pinLengths(min: CK_ULONG, max: CK_ULONG) -> ClosedRange<Int>? {
            // CK_UNAVAILABLE_INFORMATION (all ones), 0 or a maximum below the minimum say nothing.
            guard max != CK_ULONG.max, max > 0, min <= max, max <= 1 << 16 else { return nil }
            return Int(min)...Int(max)
        }
    }

    /// The module's slots (`tokenPresent`: only those holding a token), each with its token's facts.
    package func slots(tokenPresent: Bool = true) throws(PKCS11Error) -> [Slot] {
        var count: CK_ULONG = 0
        let present: CK_BBOOL = tokenPresent ? 1 : 0
        try check(functions.C_GetSlotList?(present, nil, &count), "C_GetSlotList")
        var ids = [CK_SLOT_ID](repeating: 0, count: Int(count))
        try check(functions.C_GetSlotList?(present, &ids, &count), "C_GetSlotList")
        var slots: [Slot] = []
        for id in ids.prefix(Int(count)) {
            var info = CK_SLOT_INFO()
            try check(functions.C_GetSlotInfo?(id, &info), "C_GetSlotInfo")
            let token = info.flags & PKCS11.CKF_TOKEN_PRESENT != 0 ? try tokenInfo(slot: id) : nil
            slots.append(Slot(id: id, description: Self.text(info.slotDescription), manufacturer: Self.text(info.manufacturerID), token: token))
        }
        return slots
    }

    /// The one token `uri` names (its `token`, `serial`, `manufacturer`, `model`; `slot-id` when
    /// given), with its facts. Only what matching needs is read: the token facts of each slot
    /// holding one, not the slots' own (`C_GetSlotInfo`), and only the named slot's when the URI
    /// names one. A slot whose token went or is not one the module knows is passed over.
    package func token(answering uri: PKCS11URI) throws(PKCS11Error) -> (slot: CK_SLOT_ID, token: TokenInfo) {
        var found: [(slot: CK_SLOT_ID, token: TokenInfo)] = []
        if let named = uri.slotID {
            let slot = CK_SLOT_ID(named)
            do { found = [(slot, try tokenInfo(slot: slot))].filter { uri.matches($0.token) } } catch .call(_, PKCS11.CKR_SLOT_ID_INVALID) {}
        } else {
            var count: CK_ULONG = 0
            try check(functions.C_GetSlotList?(1, nil, &count), "C_GetSlotList")
            var ids = [CK_SLOT_ID](repeating: 0, count: Int(count))
            try check(functions.C_GetSlotList?(1, &ids, &count), "C_GetSlotList")
            for slot in ids.prefix(Int(count)) {
                let token: TokenInfo
                do { token = try tokenInfo(slot: slot) } catch .tokenNotPresent { continue } catch .call(_, PKCS11.CKR_TOKEN_NOT_RECOGNIZED) { continue }
                if uri.matches(token) { found.append((slot, token)) }
            }
        }
        guard let first = found.first else { throw .notFound("token \(uri)") }
        guard found.count == 1 else { throw .notFound("\(found.count) tokens answer \(uri); name one (token=, serial=)") }
        return first
    }

    /// The token's facts now (its PIN flags change with each login).
    package func tokenInfo(slot: CK_SLOT_ID) throws(PKCS11Error) -> TokenInfo {
        var info = CK_TOKEN_INFO()
        try check(functions.C_GetTokenInfo?(slot, &info), "C_GetTokenInfo")
        return TokenInfo(label: Self.text(info.label), manufacturer: Self.text(info.manufacturerID), model: Self.text(info.model),
                         serial: Self.text(info.serialNumber), flags: info.flags,
                         pinLengths: TokenInfo.pinLengths(min: info.ulMinPinLen, max: info.ulMaxPinLen))
    }

    /// PKCS#11's fixed-width texts: UTF-8 padded with blanks, not NUL-terminated.
    static func text<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { bytes in
            var end = bytes.count
            while end > 0, bytes[end - 1] == 0x20 || bytes[end - 1] == 0 { end -= 1 }
            return String(decoding: bytes.prefix(end), as: UTF8.self)
        }
    }

    /// A read-only session on the token in `slot`, closed when the value goes away.
    package func openSession(slot: CK_SLOT_ID) throws(PKCS11Error) -> PKCS11Session {
        var session: CK_SESSION_HANDLE = 0
        try check(functions.C_OpenSession?(slot, PKCS11.CKF_SERIAL_SESSION, nil, nil, &session), "C_OpenSession")
        return PKCS11Session(module: self, slot: slot, handle: session)
    }
}

/// One session with a token. Not shared between threads: a signer keeps its own and serialises.
package final class PKCS11Session: @unchecked Sendable {
    package let module: PKCS11Module
    package let slot: CK_SLOT_ID
    let handle: CK_SESSION_HANDLE

    init(module: PKCS11Module, slot: CK_SLOT_ID, handle: CK_SESSION_HANDLE) {
        self.module = module
        self.slot = slot
        self.handle = handle
    }

    deinit { _ = module.functions.C_CloseSession?(handle) }

    /// The objects of class `objectClass`, with `id` (CKA_ID) when given; `limit`: no more than
    /// that many (one C_FindObjects call for a key, where the end of the list costs another).
    package func find(class objectClass: CK_OBJECT_CLASS, id: [UInt8]? = nil, label: String? = nil, limit: Int = 16) throws(PKCS11Error) -> [CK_OBJECT_HANDLE] {
        var classValue = objectClass
        var idValue = id ?? []
        var labelValue = Array((label ?? "").utf8)
        let module = self.module
        let functions = module.functions
        let session = handle
        let result: Result<[CK_OBJECT_HANDLE], PKCS11Error> = withUnsafeMutableBytes(of: &classValue) { classBytes in
            idValue.withUnsafeMutableBytes { idBytes in
                labelValue.withUnsafeMutableBytes { labelBytes in
                    var template = [CK_ATTRIBUTE(type: PKCS11.CKA_CLASS, pValue: classBytes.baseAddress, ulValueLen: CK_ULONG(classBytes.count))]
                    if id != nil { template.append(CK_ATTRIBUTE(type: PKCS11.CKA_ID, pValue: idBytes.baseAddress, ulValueLen: CK_ULONG(idBytes.count))) }
                    if label != nil { template.append(CK_ATTRIBUTE(type: PKCS11.CKA_LABEL, pValue: labelBytes.baseAddress, ulValueLen: CK_ULONG(labelBytes.count))) }
                    return Result(catching: { () throws(PKCS11Error) -> [CK_OBJECT_HANDLE] in
                        try module.check(functions.C_FindObjectsInit?(session, &template, CK_ULONG(template.count)), "C_FindObjectsInit")
                        defer { _ = functions.C_FindObjectsFinal?(session) }
                        var found: [CK_OBJECT_HANDLE] = []
                        var batch = [CK_OBJECT_HANDLE](repeating: 0, count: max(1, min(limit, 16)))
                        while found.count < limit {
                            var count: CK_ULONG = 0
                            try module.check(functions.C_FindObjects?(session, &batch, CK_ULONG(batch.count), &count), "C_FindObjects")
                            if count == 0 { break }
                            found += batch.prefix(Int(count))
                        }
                        return found
                    })
                }
            }
        }
        return try result.get()
    }

    /// A CK_BBOOL attribute in one call (its length is known), or nil when the object has none.
    package func flag(_ type: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE) throws(PKCS11Error) -> Bool? {
        var value: CK_BBOOL = 0
        let (rv, length) = withUnsafeMutableBytes(of: &value) { bytes in
            var attribute = CK_ATTRIBUTE(type: type, pValue: bytes.baseAddress, ulValueLen: CK_ULONG(bytes.count))
            return (module.functions.C_GetAttributeValue?(handle, object, &attribute, 1), attribute.ulValueLen)
        }
        if rv == PKCS11.CKR_ATTRIBUTE_TYPE_INVALID || rv == PKCS11.CKR_ATTRIBUTE_SENSITIVE { return nil }
        try module.check(rv, "C_GetAttributeValue")
        return length == 1 ? value != 0 : nil
    }

    /// Several attributes' values in two calls (their lengths, then their values), each nil when
    /// the object has none or keeps it secret. PKCS#11 §5.7 has a module answer every attribute of
    /// a template even when it refuses one (CKR_ATTRIBUTE_TYPE_INVALID / _SENSITIVE, that length
    /// CK_UNAVAILABLE_INFORMATION); a call per attribute costs SoftHSM2 a read of its token files each.
    /// `room`: first try one call with that many bytes for each value, which spares the lengths'
    /// call when all fit and all are there (a certificate is 1–2 KB); anything else asks the lengths.
    package func attributes(_ types: [CK_ATTRIBUTE_TYPE], of object: CK_OBJECT_HANDLE, room: Int = 0) throws(PKCS11Error) -> [[UInt8]?] {
        let functions = module.functions
        if room > 0 {
            var storage = [UInt8](repeating: 0, count: room * types.count)
            let (rv, lengths) = storage.withUnsafeMutableBytes { [handle] bytes in
                var template = types.indices.map { CK_ATTRIBUTE(type: types[$0], pValue: bytes.baseAddress! + $0 * room, ulValueLen: CK_ULONG(room)) }
                return (functions.C_GetAttributeValue?(handle, object, &template, CK_ULONG(template.count)), template.map(\.ulValueLen))
            }
            // Only CKR_OK says every value is whole; a refusal or one too big is sorted out below.
            if rv == PKCS11.CKR_OK, lengths.allSatisfy({ $0 <= CK_ULONG(room) }) { return lengths.indices.map { Array(storage[$0 * room ..< $0 * room + Int(lengths[$0])]) } }
            if rv != PKCS11.CKR_BUFFER_TOO_SMALL && rv != PKCS11.CKR_ATTRIBUTE_TYPE_INVALID && rv != PKCS11.CKR_ATTRIBUTE_SENSITIVE {
                try module.check(rv, "C_GetAttributeValue")
            }
        }
        var template = types.map { CK_ATTRIBUTE(type: $0, pValue: nil, ulValueLen: 0) }
        let first = functions.C_GetAttributeValue?(handle, object, &template, CK_ULONG(template.count)) ?? PKCS11.CKR_FUNCTION_NOT_SUPPORTED
        if first != PKCS11.CKR_ATTRIBUTE_TYPE_INVALID && first != PKCS11.CKR_ATTRIBUTE_SENSITIVE { try module.check(first, "C_GetAttributeValue") }
        let lengths = template.map { $0.ulValueLen == PKCS11.CK_UNAVAILABLE_INFORMATION ? nil : Int($0.ulValueLen) }
        let offsets = lengths.reduce(into: [0]) { offsets, length in offsets.append(offsets.last! + (length ?? 0)) }
        let present = lengths.indices.filter { lengths[$0] != nil }
        guard !present.isEmpty else { return lengths.map { _ in nil } }
        var storage = [UInt8](repeating: 0, count: offsets.last!)
        let handle = handle
        let (rv, answered) = storage.withUnsafeMutableBytes { bytes in
            var values = present.map { index in
                CK_ATTRIBUTE(type: types[index], pValue: bytes.baseAddress.map { $0 + offsets[index] }, ulValueLen: CK_ULONG(lengths[index]!))
            }
            let rv = functions.C_GetAttributeValue?(handle, object, &values, CK_ULONG(values.count))
            return (rv, values.map(\.ulValueLen))
        }
        try module.check(rv, "C_GetAttributeValue")
        var result = [[UInt8]?](repeating: nil, count: types.count)
        for (index, length) in zip(present, answered) where length != PKCS11.CK_UNAVAILABLE_INFORMATION {
            result[index] = Array(storage[offsets[index] ..< offsets[index] + min(Int(length), lengths[index]!)])
        }
        return result
    }

    /// The certificates on the token: CKA_ID (which names the key beside it), label and DER.
    package struct CertificateObject: Sendable, Equatable {
        package let id: [UInt8]
        package let label: String
        package let der: [UInt8]
    }

    package func certificates(id: [UInt8]? = nil, label: String? = nil) throws(PKCS11Error) -> [CertificateObject] {
        var certificates: [CertificateObject] = []
        for object in try find(class: PKCS11.CKO_CERTIFICATE, id: id, label: label) {
            let values = try attributes([PKCS11.CKA_VALUE, PKCS11.CKA_ID, PKCS11.CKA_LABEL], of: object, room: 8192)
            guard let der = values[0], !der.isEmpty else { continue }
            let label = values[2].map { String(decoding: $0, as: UTF8.self) } ?? ""
            certificates.append(CertificateObject(id: values[1] ?? [], label: label, der: der))
        }
        return certificates
    }

    /// Logs the user in with `pin`'s bytes (lent, not kept). `CKR_USER_ALREADY_LOGGED_IN` is a
    /// refusal (`tokenBusy`): PKCS#11 logins belong to the token, so it means another session of
    /// this process is logged in and this PIN was never checked — taking it as success let a wrong
    /// PIN sign while another session was open.
    func login(pin: UnsafeBufferPointer<UInt8>) throws(PKCS11Error) {
        let rv = module.functions.C_Login?(handle, PKCS11.CKU_USER, UnsafeMutablePointer(mutating: pin.baseAddress), CK_ULONG(pin.count))
        if rv == PKCS11.CKR_USER_ALREADY_LOGGED_IN { throw .tokenBusy }
        try module.check(rv, "C_Login")
    }

    func logout() { _ = module.functions.C_Logout?(handle) }

    /// The context-specific login a CKA_ALWAYS_AUTHENTICATE key wants between C_SignInit and C_Sign.
    func contextLogin(pin: UnsafeBufferPointer<UInt8>) throws(PKCS11Error) {
        try module.check(module.functions.C_Login?(handle, PKCS11.CKU_CONTEXT_SPECIFIC, UnsafeMutablePointer(mutating: pin.baseAddress), CK_ULONG(pin.count)), "C_Login")
    }

    /// Signs `data` with `key` through `mechanism`; `pss`: the parameters of CKM_RSA_PKCS_PSS.
    /// `afterInit`: between C_SignInit and C_Sign (the context-specific login).
    func sign(_ data: [UInt8], key: CK_OBJECT_HANDLE, mechanism: CK_MECHANISM_TYPE, pss: CK_RSA_PKCS_PSS_PARAMS? = nil,
              afterInit: () throws(PKCS11Error) -> Void = {}) throws(PKCS11Error) -> [UInt8] {
        let functions = module.functions
        var parameters = pss ?? CK_RSA_PKCS_PSS_PARAMS()
        let initialized = withUnsafeMutableBytes(of: &parameters) { bytes in
            var mechanismValue = CK_MECHANISM(mechanism: mechanism, pParameter: pss == nil ? nil : bytes.baseAddress,
                                              ulParameterLen: pss == nil ? 0 : CK_ULONG(bytes.count))
            return functions.C_SignInit?(handle, &mechanismValue, key)
        }
        try module.check(initialized, "C_SignInit")
        try afterInit()
        var input = data
        // Room for RSA-4096's signature, so one call signs; a larger one is answered
        // CKR_BUFFER_TOO_SMALL with its length, the operation still open (PKCS#11 §5.2).
        var signature = [UInt8](repeating: 0, count: 512)
        var length = CK_ULONG(signature.count)
        var rv = functions.C_Sign?(handle, &input, CK_ULONG(input.count), &signature, &length)
        if rv == PKCS11.CKR_BUFFER_TOO_SMALL {
            signature = [UInt8](repeating: 0, count: Int(length))
            rv = functions.C_Sign?(handle, &input, CK_ULONG(input.count), &signature, &length)
        }
        try module.check(rv, "C_Sign")
        return Array(signature.prefix(Int(length)))
    }
}

/// A mutex the thread holding it may take again (pthread's recursive mutex): what
/// `PKCS11Module.load` needs, without Foundation's `NSRecursiveLock` (gateway-token links no
/// Foundation, docs/PERFORMANCE.md). Lives as long as the process (one static instance).
private final class RecursiveLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}
