"""BER-TLV and FASC-N codecs of the virtual PIV card (virtual_piv.py): pure functions, apart so the
card's file holds the card."""


def tlv(tag, value):
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82, n >> 8, n & 0xFF])
    return tag + length + value


def parse_tlvs(data):
    """One level of single-byte-tag BER-TLVs (all the PIV commands carry); ValueError if malformed."""
    items, i = {}, 0
    while i < len(data):
        if i + 2 > len(data):
            raise ValueError("truncated TLV")
        tag, first = data[i:i + 1], data[i + 1]
        i += 2
        if first < 0x80:
            n = first
        else:
            k = first & 0x7F
            n = int.from_bytes(data[i:i + k], "big")
            i += k
        if i + n > len(data):
            raise ValueError("TLV longer than its data")
        items[tag] = data[i:i + n]
        i += n
    return items


def fasc_n(agency, system, credential, series, issue, person, category, organization, association):
    """The 25-byte FASC-N (TIG SCEPACS): 40 characters of 5 bits, each a BCD digit sent least
    significant bit first plus an odd-parity bit, framed by start/separator/end sentinels and ended
    by a longitudinal redundancy character (the XOR of the others)."""
    start, separator, end = 0xB, 0xD, 0xF
    digits = lambda text: [int(c) for c in text]
    characters = ([start] + digits(agency) + [separator] + digits(system) + [separator] + digits(credential)
                  + [separator] + digits(series) + [separator] + digits(issue) + [separator]
                  + digits(person + category + organization + association) + [end])
    lrc = 0
    for character in characters:
        lrc ^= character
    bits = ""
    for character in characters + [lrc]:
        data = [(character >> k) & 1 for k in range(4)]
        bits += "".join(map(str, data)) + str(1 - sum(data) % 2)
    return int(bits, 2).to_bytes(25, "big")
