"""What the scripts submit as documents' metadata: real-looking Vietnamese subjects and recipients."""

import math
import struct
import zlib

RECIPIENTS = ["000.00.20.H13", "000.00.20.H14", "000.00.21.H01", "010.00.00.G02"]
SUBJECTS = [
    "Về việc tổ chức họp giao ban tháng 11",
    "Về việc triển khai chữ ký số trong cơ quan nhà nước",
    "Báo cáo tình hình kinh tế – xã hội quý IV",
    "Kế hoạch phòng, chống thiên tai năm 2026",
    "Thông báo lịch tiếp công dân của Chủ tịch UBND xã",
]


# The doors refuse a `.pdf` that is not a PDF the box could sign (PDFIntakeCheck), so what the
# scripts submit under a PDF name is a real one-page PDF; random bytes ride in an extra stream
# (they stand for a scan's images and keep every document's content unique). The same layout as
# the tests' SamplePDF.swift: catalog, pages, one page, a font, its content, the padding stream.

def pdf_parts(padding_size, text="Van ban thu nghiem"):
    """(head, tail) of a PDF whose padding stream holds `padding_size` bytes written between them:
    for files too large to build in memory (write head, the padding, then tail)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = f"BT /F1 12 Tf 72 760 Td ({escaped}) Tj ET".encode("latin-1")
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
        b"<</Length %d>>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    head = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(head))
        head += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    offsets.append(len(head))
    head += b"%d 0 obj\n<</Length %d>>\nstream\n" % (len(objects) + 1, padding_size)
    tail = bytearray(b"\nendstream\nendobj\n")
    xref = len(head) + padding_size + len(tail)
    count = len(offsets) + 1
    tail += b"xref\n0 %d\n0000000000 65535 f \n" % count
    for offset in offsets:
        tail += b"%010d 00000 n \n" % offset
    tail += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (count, xref)
    return bytes(head), bytes(tail)


def pdf(padding=b"", text="Van ban thu nghiem"):
    """A one-page PDF carrying `padding` (any bytes)."""
    head, tail = pdf_parts(len(padding), text)
    return head + padding + tail


def _png_rgba(width, height, pixel, pixels_per_metre=None):
    """An RGBA PNG (colour type 6) whose pixel at (x, y) is pixel(x, y) -> (r, g, b, a);
    pHYs when pixels_per_metre is given, so its real size is known (the seal's must be)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows.extend(pixel(x, y))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
    if pixels_per_metre:
        png += chunk(b"pHYs", struct.pack(">IIB", pixels_per_metre, pixels_per_metre, 1))
    return png + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")


def seal_png(size=240, width_mm=36):
    """A red round seal (two rings and a star) on transparency, 36 mm across as a commune's is."""
    centre = (size - 1) / 2
    def pixel(x, y):
        r = math.hypot(x - centre, y - centre) / centre
        angle = math.atan2(y - centre, x - centre)
        star = r < 0.28 * (0.55 + 0.45 * abs(math.cos(2.5 * angle)))
        ring = 0.90 < r < 0.98 or 0.72 < r < 0.76
        return (200, 16, 24, 230) if ring or star else (0, 0, 0, 0)
    return _png_rgba(size, size, pixel, pixels_per_metre=round(size / (width_mm / 1000)))


def signature_png(width=300, height=110):
    """A leader's signature: one blue stroke on transparency."""
    def pixel(x, y):
        curve = height / 2 + 28 * math.sin(x / 23.0) * math.cos(x / 71.0)
        return (20, 40, 160, 255) if abs(y - curve) < 2.5 and 12 < x < width - 12 else (0, 0, 0, 0)
    return _png_rgba(width, height, pixel)
