// The USB signing-token models the box knows by name, and the udev rules made from them.
//
// An operator should read "SafeNet eToken 5110", not a bare reader name: `USBDevices` reads each
// device's USB vendor and product id and looks them up here (`TokenModel.matching`). The same
// table generates `udev/70-commune-gateway-tokens.rules` (`TokenModel.udevRules(group:)`, printed
// by `gatewayd token udev-rules`), so the rules and the table cannot disagree.
//
// Every vendor:product pair below was found in a public source, named in the comment over its
// group. No id is guessed: a model whose id no source showed is left out (see udev/README.md).
// The sources:
//   [ccid]   The CCID driver's list of readers (LudovicRousseau/CCID, readers/supported_readers.txt),
//            as shipped in Debian 12's libccid 1.5.2: the ifdVendorID / ifdProductID /
//            ifdFriendlyName arrays of /usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist.
//            Every id marked [ccid] is one pcscd drives with the stock CCID driver.
//   [usbids] The USB id database, usb.ids 2025.07.26 (Debian package usb.ids,
//            /usr/share/misc/usb.ids).
//   [ykman]  Yubico's yubikey-manager, the `PID` enum of yubikit (its YK4_* ids, "This includes
//            YubiKey 5").
//   [nk]     Nitrokey's libnitrokey, data/41-nitrokey.rules.
//   [lsusb]  lsusb / dmesg output of a real device, quoted in public issues and notes (named at
//            the entry).
//
// `opensc` marks the models whose card OpenSC has a driver for (card-epass2003.c for the
// ePass2003 and the HYP2003 sold as it, card-idprime.c for the SafeNet eToken 5110/5110+/5300's
// IDPrime, card-cardos.c for the eToken PRO 64K, card-openpgp.c and card-sc-hsm.c for the
// Nitrokeys): OpenSC's opensc-pkcs11.so serves them by default (docs/tokens.md).
//
// `piv` says whether the model usually carries a PIV application (the box signs through PIV):
// `.yes` where the maker ships one, `.no` where the token's card is known to be another kind
// (OpenPGP card, SmartCard-HSM, a vendor PKCS#15 or IDPrime file system, or no CCID interface at
// all), `.unknown` otherwise — a reader, for one, is as PIV as the card in it.
//
// Tokens of the Vietnamese CAs (VNPT-CA, Viettel-CA, BKAV-CA, FPT-CA, Nacencomm CA2, the
// government's Ban Cơ yếu Chính phủ tokens) carry the CA's label but report the maker's own USB
// id, so they are found here under their maker (Feitian ePass2003, SafeNet eToken, Longmai
// mToken, Watchdata, ...), not under the CA's name.

extension TokenModel {
    /// Known token models by USB vendor/product id, grouped by vendor, one entry per id.
    /// `matching(vendorID:productID:)` looks them up, and `udevRules(group:)` makes one udev rule
    /// per entry. Add a model only with an id seen in a source, named in the comment over its
    /// group, then regenerate the udev rules (udev/README.md).
    static let table: [TokenModel] = [
        // Yubico (0x1050). [ccid] names all eight; [ykman] and [usbids] show that the 0x04xx ids
        // are shared by YubiKey 4 and 5 (and their FIPS and Nano variants), told apart only by
        // firmware. Only the ids with a CCID interface are here: the OTP-only and FIDO-only
        // modes (0x0401-0x0403, 0x0110, 0x0113, 0x0114) never reach pcscd. Every YubiKey with
        // CCID, NEO included, has the PIV application.
        TokenModel(vendorID: 0x1050, productID: 0x0111, name: "YubiKey NEO (OTP+CCID)", piv: .yes),
        TokenModel(vendorID: 0x1050, productID: 0x0112, name: "YubiKey NEO (CCID)", piv: .yes),
        TokenModel(vendorID: 0x1050, productID: 0x0115, name: "YubiKey NEO (FIDO+CCID)", piv: .yes),
        TokenModel(vendorID: 0x1050, productID: 0x0116, name: "YubiKey NEO (OTP+FIDO+CCID)", piv: .yes),
        TokenModel(vendorID: 0x1050, productID: 0x0404, name: "YubiKey 4/5 (CCID)", piv: .yes),
        TokenModel(vendorID: 0x1050, productID: 0x0405, name: "YubiKey 4/5 (OTP+CCID)", piv: .yes),
        TokenModel(vendorID: 0x1050, productID: 0x0406, name: "YubiKey 4/5 (FIDO+CCID)", piv: .yes),
        TokenModel(vendorID: 0x1050, productID: 0x0407, name: "YubiKey 4/5 (OTP+FIDO+CCID)", piv: .yes),

        // Feitian (0x096e). ePass2003 / ePass2003 Auto, eJAVA, PIVKey T800, the FT CCID keys and
        // the BioPass keys: [ccid]. ePass3003 / ePass3003 Auto: [usbids] only (not in the CCID
        // list, so most likely not driven by pcscd). The ePass2003 is the token most Vietnamese
        // CAs hand out; its card is Feitian's own PKCS#15 file system (OpenSC "epass2003"
        // driver), not PIV. The PIVKey T800 is a PIV token built on Feitian hardware.
        TokenModel(vendorID: 0x096E, productID: 0x0807, name: "Feitian ePass2003", piv: .no, opensc: true),
        TokenModel(vendorID: 0x096E, productID: 0x080A, name: "Feitian ePass2003 Auto", piv: .no, opensc: true),
        TokenModel(vendorID: 0x096E, productID: 0x0702, name: "Feitian ePass3003", piv: .unknown),
        TokenModel(vendorID: 0x096E, productID: 0x0703, name: "Feitian ePass3003 Auto", piv: .unknown),
        TokenModel(vendorID: 0x096E, productID: 0x080F, name: "Feitian eJAVA Token", piv: .unknown),
        TokenModel(vendorID: 0x096E, productID: 0x0603, name: "PIVKey T800 (Feitian)", piv: .yes),
        TokenModel(vendorID: 0x096E, productID: 0x0853, name: "Feitian key (U2F+CCID+keyboard)", piv: .unknown),
        TokenModel(vendorID: 0x096E, productID: 0x0855, name: "Feitian key (CCID+keyboard)", piv: .unknown),
        TokenModel(vendorID: 0x096E, productID: 0x0856, name: "Feitian key (U2F+CCID)", piv: .unknown),
        TokenModel(vendorID: 0x096E, productID: 0x0859, name: "Feitian key (CCID)", piv: .unknown),
        TokenModel(vendorID: 0x096E, productID: 0x0867, name: "Feitian BioPass FIDO2", piv: .unknown),
        TokenModel(vendorID: 0x096E, productID: 0x0868, name: "Feitian BioPass (FIDO+CCID+keyboard)", piv: .unknown),
        TokenModel(vendorID: 0x096E, productID: 0x0869, name: "Feitian BioPass (CCID+keyboard)", piv: .unknown),
        TokenModel(vendorID: 0x096E, productID: 0x086C, name: "Feitian BioPass (CCID)", piv: .unknown),

        // Hypersecu (0x2ccf), which sells Feitian's ePass2003 as the HYP2003. [lsusb]: "ID
        // 2ccf:080a Hypersecu USB TOKEN" with token label HYP2003, in a public Linux DSC-token
        // setup guide. Not in the CCID list of libccid 1.5.2.
        TokenModel(vendorID: 0x2CCF, productID: 0x080A, name: "Hypersecu HYP2003 token", piv: .unknown, opensc: true),

        // SafeNet / Aladdin (0x0529). 0x0620: [ccid] "SafeNet eToken 5100" (earlier lists: "Aladdin
        // eToken PRO USB 72K Java"), [usbids] "Token JC"; an eToken 5110 reports it too ([lsusb]
        // in OpenSC issue #461: manufacturer "SafeNet", interface "eToken 5110 SC"). 0x0602:
        // [ccid] "SafeNet eToken 7300". 0x0600: [usbids] "eToken Pro 64k (4.2)", an older
        // eToken that is not in the CCID list. The eToken cards are eToken Java / IDPrime MD
        // (OpenSC "idprime" driver), not PIV; the PRO 64K is a CardOS card.
        TokenModel(vendorID: 0x0529, productID: 0x0620, name: "SafeNet eToken 5110", piv: .no, opensc: true),
        TokenModel(vendorID: 0x0529, productID: 0x0602, name: "SafeNet eToken 7300", piv: .unknown),
        TokenModel(vendorID: 0x0529, productID: 0x0600, name: "Aladdin eToken PRO 64K", piv: .no, opensc: true),

        // Thales / Gemalto (0x08e6): the newer SafeNet eTokens and the IDBridge / GemPC readers.
        // All [ccid]; 0x34cf also [lsusb] in OpenSC issue #3478 ("08e6:34cf ... eToken 5110+
        // FIPS"). The 5110+ and 5300 tokens carry an IDPrime card, which OpenSC's "idprime"
        // driver handles (PR #3048, issue #3590), not PIV. 0x3437 and 0x3438 are the ids of the IDBridge CT30 and K30 too
        // (the CCID list's duplicates section: "Gemalto IDBridge CT30", "Gemalto IDBridge K30").
        // The K30 / "USB Shell Token" and the K3000 are token housings for a SIM-size card,
        // usually an IDPrime; the readers are as PIV as the card put in them.
        TokenModel(vendorID: 0x08E6, productID: 0x34CF, name: "SafeNet eToken 5110+ FIPS", piv: .no, opensc: true),
        TokenModel(vendorID: 0x08E6, productID: 0x34CC, name: "SafeNet eToken 5300", piv: .no, opensc: true),
        TokenModel(vendorID: 0x08E6, productID: 0x34CE, name: "SafeNet eToken 5300 C", piv: .no, opensc: true),
        TokenModel(vendorID: 0x08E6, productID: 0x34D2, name: "SafeNet eToken Fusion", piv: .unknown),
        TokenModel(vendorID: 0x08E6, productID: 0x3438, name: "Gemalto IDBridge K30 token (USB Shell Token V2)", piv: .unknown),
        TokenModel(vendorID: 0x08E6, productID: 0x8141, name: "Gemalto IDBridge K3000 token", piv: .unknown),
        TokenModel(vendorID: 0x08E6, productID: 0x2202, name: "Gemalto Gem e-Seal Pro token", piv: .unknown),
        TokenModel(vendorID: 0x08E6, productID: 0x4042, name: "Gemalto .NET Dual token", piv: .unknown),
        TokenModel(vendorID: 0x08E6, productID: 0x3437, name: "Gemalto IDBridge CT30 reader (GemPC Twin)", piv: .unknown),
        TokenModel(vendorID: 0x08E6, productID: 0x3440, name: "Gemalto CT1100 reader", piv: .unknown),
        TokenModel(vendorID: 0x08E6, productID: 0x3478, name: "Gemalto GemPC Pinpad reader", piv: .unknown),
        TokenModel(vendorID: 0x08E6, productID: 0x34EC, name: "Gemalto GemPC Express reader", piv: .unknown),
        TokenModel(vendorID: 0x08E6, productID: 0x5503, name: "Gemalto Prox-DU reader", piv: .unknown),
        TokenModel(vendorID: 0x08E6, productID: 0x5504, name: "Gemalto Prox-SU reader", piv: .unknown),

        // Bit4id (0x25dd). [ccid], all names as there; 0x23b4 (ArubaKey AK901) and 0x2311
        // (keyfour-a1) from [usbids] only. Italian signature tokens (CNS / qualified
        // signature), PIV not known.
        TokenModel(vendorID: 0x25DD, productID: 0x2351, name: "Bit4id Digital DNA Key", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x2354, name: "Bit4id Digital-DNA Key", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x2362, name: "Bit4id Digital-DNA Key", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x2361, name: "Bit4id Digital-DNA Key BT", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x2341, name: "Bit4id tokenME FIPS v3", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x2371, name: "Bit4id tokenME EVO v2", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x2321, name: "Bit4id CKey4", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x2311, name: "Bit4id keyfour-a1", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x23B4, name: "Bit4id ArubaKey AK901", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x1201, name: "Bit4id cryptokey", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x2221, name: "Bit4id iAM", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x1101, name: "Bit4id miniLector-s reader", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x3111, name: "Bit4id miniLector EVO reader", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x3211, name: "Bit4id miniLector AIR EVO reader", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x3403, name: "Bit4id miniLector AIR NFC v3 reader", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0x3503, name: "Bit4id mLector AIR DI V3 reader", piv: .unknown),
        TokenModel(vendorID: 0x25DD, productID: 0xB001, name: "Bit4id miniLector Blue reader", piv: .unknown),

        // Nitrokey, on Clay Logic's vendor id (0x20a0). [ccid], [usbids] and [nk] agree on
        // Pro, Storage, Start and HSM; Nitrokey 3: [ccid] and [usbids] ("Nitrokey 3A Mini/3A
        // NFC/3C NFC"). No source showed the Pro 2's id apart from the Pro's, so it is listed as
        // the Pro (which it is believed to share). Pro, Storage and Start are OpenPGP cards,
        // the HSM a SmartCard-HSM: no PIV. The Nitrokey 3's PIV application came as "unstable"
        // in test firmware (v1.5.0-test, v1.6.0-test) in the releases seen: unknown. The CanoKey,
        // on the same vendor id ([ccid] "Canokeys Canokey"), has a PIV application.
        TokenModel(vendorID: 0x20A0, productID: 0x42B2, name: "Nitrokey 3", piv: .unknown),
        TokenModel(vendorID: 0x20A0, productID: 0x4108, name: "Nitrokey Pro", piv: .no, opensc: true),
        TokenModel(vendorID: 0x20A0, productID: 0x4211, name: "Nitrokey Start", piv: .no, opensc: true),
        TokenModel(vendorID: 0x20A0, productID: 0x4230, name: "Nitrokey HSM", piv: .no, opensc: true),
        TokenModel(vendorID: 0x20A0, productID: 0x4109, name: "Nitrokey Storage", piv: .no, opensc: true),
        TokenModel(vendorID: 0x20A0, productID: 0x42D4, name: "CanoKey", piv: .yes),

        // Watchdata (0x163c). [ccid]: "WatchCNPC USB CCID Key" (0x0406), "Watchdata USB Key"
        // (0x0407, 0x0417, 0x0418); 0x0407 also in the CCID driver's readers/Watchdata_USB_Key.txt
        // (manufacturer "Watchdata", product "USB Key"). Which of these ids the ProxKey uses was
        // not confirmed, so none is called ProxKey.
        TokenModel(vendorID: 0x163C, productID: 0x0407, name: "Watchdata USB Key", piv: .unknown),
        TokenModel(vendorID: 0x163C, productID: 0x0417, name: "Watchdata USB Key", piv: .unknown),
        TokenModel(vendorID: 0x163C, productID: 0x0418, name: "Watchdata USB Key", piv: .unknown),
        TokenModel(vendorID: 0x163C, productID: 0x0406, name: "Watchdata USB CCID Key (WatchCNPC)", piv: .unknown),

        // Longmai (0x055c; usb.ids names the vendor id "Proton Electronic Ind.", which Longmai's
        // tokens report). Neither is in the CCID list. 0xdb08: [lsusb] of a token with
        // manufacturer "Longmai Technologies", product "Longmai mToken", used through Longmai's
        // GM3000 SKF library; it enumerated as a USB mass-storage device only, so pcscd never
        // sees it (vendor middleware only): no PIV. 0x0223: [lsusb] "055c:0223 ... mToken
        // CryptoIDA" in a public Linux DSC-token setup guide.
        TokenModel(vendorID: 0x055C, productID: 0xDB08, name: "Longmai mToken GM3000", piv: .no),
        TokenModel(vendorID: 0x055C, productID: 0x0223, name: "Longmai mToken CryptoID", piv: .unknown),
    ]
}

extension TokenModel {
    /// udev rules giving the daemon's group access to every known token, one rule per entry of
    /// `table`, grouped by vendor: the token's USB device node (`/dev/bus/usb/BBB/DDD`) gets
    /// `GROUP=group` and `MODE="0660"`, so the unprivileged daemon can open it through libusb and
    /// read the manufacturer and product strings (pcscd runs as root and needs no rule), and
    /// `TAG+="systemd"`, so systemd makes a `.device` unit of each token that units can be
    /// ordered after or bound to. `udev/70-commune-gateway-tokens.rules` is exactly this for the
    /// group `gatewayd-tokens`.
    ///
    /// `group` is written into the rules as it is, between double quotes: it must be a plain
    /// group name (letters, digits, `_`, `-`, `.`), which the caller checks.
    package static func udevRules(group: String) -> String {
        // First entry wins for a repeated id, as in `matching`; vendors in order of appearance.
        var seen = Set<UInt32>()
        var vendors: [UInt16] = []
        var models: [UInt16: [TokenModel]] = [:]
        for model in table where seen.insert(UInt32(model.vendorID) << 16 | UInt32(model.productID)).inserted {
            if models[model.vendorID] == nil { vendors.append(model.vendorID) }
            models[model.vendorID, default: []].append(model)
        }

        var lines = [
            "# 70-commune-gateway-tokens.rules: USB signing tokens for the commune document gateway.",
            "#",
            "# GENERATED by `gatewayd token udev-rules --group \(group)` from the token model table",
            "# (Sources/TokenDriver/USB/TokenModelTable.swift). Do not edit by hand: add the model to",
            "# the table and regenerate (see udev/README.md).",
            "#",
            "# For each known token, the USB device node (/dev/bus/usb/BBB/DDD) gets group \"\(group)\"",
            "# and mode 0660, so the daemon, which runs in that group without root, can open it through",
            "# libusb and read the manufacturer and product strings. It never claims an interface:",
            "# pcscd (root) alone talks to the token. TAG+=\"systemd\" makes systemd create a .device",
            "# unit for each token, which units can be ordered after or bound to.",
            "#",
            "# Install as /etc/udev/rules.d/70-commune-gateway-tokens.rules, then run",
            "#   udevadm control --reload && udevadm trigger --subsystem-match=usb",
        ]
        for vendor in vendors {
            lines.append("")
            lines.append("# \(vendorNames[vendor] ?? "USB vendor") (\(udevHex(vendor)))")
            for model in models[vendor] ?? [] {
                lines.append("# \(model.name)")
                lines.append(
                    "ACTION==\"add|change\", SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", "
                        + "ATTR{idVendor}==\"\(udevHex(model.vendorID))\", ATTR{idProduct}==\"\(udevHex(model.productID))\", "
                        + "MODE=\"0660\", GROUP=\"\(group)\", TAG+=\"systemd\"")
            }
        }
        // Tokens the table does not know yet (a CA's new model) are still smart-card readers:
        // any USB device with a CCID interface (class 0x0B) gets the same access, so the daemon
        // can at least show their manufacturer's and product's own strings.
        lines += [
            "",
            "# Any other USB device with a smart-card (CCID, class 0b) interface: a token not in the table yet",
            "ACTION==\"add|change\", SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", ENV{ID_USB_INTERFACES}==\"*:0b0000:*\", "
                + "MODE=\"0660\", GROUP=\"\(group)\", TAG+=\"systemd\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The vendor line over each group of rules.
    private static let vendorNames: [UInt16: String] = [
        0x1050: "Yubico",
        0x096E: "Feitian",
        0x2CCF: "Hypersecu",
        0x0529: "SafeNet / Aladdin",
        0x08E6: "Thales / Gemalto (SafeNet eToken, IDBridge)",
        0x25DD: "Bit4id",
        0x20A0: "Nitrokey and CanoKey (Clay Logic vendor id)",
        0x163C: "Watchdata",
        0x055C: "Longmai",
    ]

    /// An id as udev's sysfs attributes show it: four lowercase hex digits (`096e`).
    private static func udevHex(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
