// The NT hash of a password (MD4 of its UTF-16LE form, RFC 1320): what ksmbd's user database
// holds and what NTLM proves knowledge of. Written here (no library on the box has MD4, and
// ksmbd.adduser would put the password on a command line) so that first boot writes the
// database itself, byte for byte the same on every boot.
package enum NTHash {
    package static func of(_ password: String) -> [UInt8] {
        md4(password.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
    }

    package static func md4(_ message: [UInt8]) -> [UInt8] {
        var bytes = message + [0x80]
        while bytes.count % 64 != 56 { bytes.append(0) }
        let bits = UInt64(message.count) * 8
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: bits >> (8 * UInt64($0))) }
        var (a, b, c, d): (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
        func rotate(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }
        for block in stride(from: 0, to: bytes.count, by: 64) {
            let x = (0..<16).map { i in (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[block + 4 * i + $1]) << (8 * UInt32($1)) } }
            let (aa, bb, cc, dd) = (a, b, c, d)
            let f = { (x: UInt32, y: UInt32, z: UInt32) in (x & y) | (~x & z) }
            let g = { (x: UInt32, y: UInt32, z: UInt32) in (x & y) | (x & z) | (y & z) }
            let h = { (x: UInt32, y: UInt32, z: UInt32) in x ^ y ^ z }
            // Round 1: words in order; round 2: by columns; round 3: in bit-reversed order.
            for i in 0..<16 {
                let s: [UInt32] = [3, 7, 11, 19]
                let t = rotate(a &+ f(b, c, d) &+ x[i], s[i % 4])
                (a, b, c, d) = (d, t, b, c)
            }
            for i in 0..<16 {
                let s: [UInt32] = [3, 5, 9, 13]
                let t = rotate(a &+ g(b, c, d) &+ x[(i % 4) * 4 + i / 4] &+ 0x5A82_7999, s[i % 4])
                (a, b, c, d) = (d, t, b, c)
            }
            let order = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15]
            for i in 0..<16 {
                let s: [UInt32] = [3, 9, 11, 15]
                let t = rotate(a &+ h(b, c, d) &+ x[order[i]] &+ 0x6ED9_EBA1, s[i % 4])
                (a, b, c, d) = (d, t, b, c)
            }
            (a, b, c, d) = (a &+ aa, b &+ bb, c &+ cc, d &+ dd)
        }
        return [a, b, c, d].flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * UInt32($0))) } }
    }
}
