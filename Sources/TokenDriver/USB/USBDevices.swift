import CLibUSB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What USB says about the device a token sits on: ids, the manufacturer's and product's own
/// strings, and the model we know it as.
package struct USBIdentity: Sendable, Equatable, Codable {
    var bus: UInt8
    var address: UInt8
    var vendorID: UInt16
    var productID: UInt16
    /// Read from the device; nil when the daemon may not open it (see udev/README.md).
    var manufacturer: String?
    var product: String?
    package var model: String?

    /// `096e:0807`
    package var idText: String { hex4(vendorID) + ":" + hex4(productID) }

    /// The best name for an operator: the known model, else the device's own strings, else ids.
    package var displayName: String {
        if let model { return model }
        let strings = [manufacturer, product].compactMap { $0 }.joined(separator: " ")
        return strings.isEmpty ? "USB \(idText)" : strings
    }

    enum CodingKeys: String, CodingKey {
        case bus, address, vendorID = "vendor_id", productID = "product_id", manufacturer, product, model
    }
}

private func hex4(_ value: UInt16) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 4 - digits.count) + digits
}

/// The USB bus through libusb-1.0: only the enumeration and the string descriptors, never a
/// claim of an interface (pcscd's CCID driver owns the tokens).
package enum USBDevices {
    package enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case libusb(Int32)

        package var description: String {
            switch self {
            case .libusb(let code): "libusb: " + String(cString: libusb_strerror(code))
            }
        }
    }

    /// Every device on the buses (empty where none is visible, as in a container).
    package static func list() throws(Failure) -> [USBIdentity] {
        var context: OpaquePointer?
        let initialised = libusb_init(&context)
        guard initialised == 0 else { throw .libusb(initialised) }
        defer { libusb_exit(context) }
        var devices: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(context, &devices)
        guard count >= 0 else { throw .libusb(Int32(count)) }
        defer { libusb_free_device_list(devices, 1) }
        return (0..<count).compactMap { index in devices?[index].flatMap(identity(of:)) }
    }

    /// The device at a bus and address (what a CCID reader's `SCARD_ATTR_CHANNEL_ID` gives).
    static func device(bus: UInt8, address: UInt8) -> USBIdentity? {
        (try? list())?.first { $0.bus == bus && $0.address == address }
    }

    /// A CCID reader's channel id (0x0020BBAA: USB, bus BB, address AA) as a bus and address.
    static func busAndAddress(channelID: UInt32) -> (bus: UInt8, address: UInt8)? {
        guard channelID >> 16 == 0x0020 else { return nil }
        return (UInt8((channelID >> 8) & 0xFF), UInt8(channelID & 0xFF))
    }

    private static func identity(of device: OpaquePointer) -> USBIdentity? {
        var descriptor = libusb_device_descriptor()
        guard libusb_get_device_descriptor(device, &descriptor) == 0 else { return nil }
        var identity = USBIdentity(
            bus: libusb_get_bus_number(device), address: libusb_get_device_address(device),
            vendorID: descriptor.idVendor, productID: descriptor.idProduct,
            model: TokenModel.matching(vendorID: descriptor.idVendor, productID: descriptor.idProduct)?.name)
        var handle: OpaquePointer?
        guard libusb_open(device, &handle) == 0, let handle else { return identity }
        defer { libusb_close(handle) }
        identity.manufacturer = string(handle, descriptor.iManufacturer)
        identity.product = string(handle, descriptor.iProduct)
        return identity
    }

    private static func string(_ handle: OpaquePointer, _ index: UInt8) -> String? {
        guard index != 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = libusb_get_string_descriptor_ascii(handle, index, &buffer, Int32(buffer.count))
        guard length > 0 else { return nil }
        // ASCII (libusb writes '?' for the rest), so Foundation's `.whitespaces` is space and tab.
        var text = Array(buffer.prefix(Int(length)))
        while text.last == 0x20 || text.last == 0x09 { text.removeLast() }
        return String(decoding: text.drop { $0 == 0x20 || $0 == 0x09 }, as: UTF8.self)
    }
}
