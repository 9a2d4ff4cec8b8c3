"""Reading a QR code from an image file: an invite (the coordinator's PNG, or a photo),
or a colleague's safety-number code.

``zxing-cpp`` decodes it: a maintained binding of the ZXing C++ library with wheels that
carry the library itself, where pyzbar would need a system package.
"""

from __future__ import annotations

from pathlib import Path

import zxingcpp
from PySide6.QtGui import QImage

from crypto.errors import CasecircleError


class QrImageError(CasecircleError):
    """The image could not be read, or holds no QR code."""

    code = "qr_image"


def read_qr_text(path: Path) -> str:
    """The text of the first QR code found in the image at ``path``."""
    text: str = _first_qr(path).text
    return text


def read_qr_bytes(path: Path) -> bytes:
    """The raw content of the first QR code in the image (a safety-number code is binary)."""
    return bytes(_first_qr(path).bytes)


def _first_qr(path: Path) -> zxingcpp.Barcode:
    image = QImage(str(path))
    if image.isNull():
        raise QrImageError(f"{path.name} is not an image this app can read")
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    rows, stride = grey.height(), grey.bytesPerLine()
    pixels = memoryview(bytes(grey.constBits())[: rows * stride]).cast("B", (rows, stride))
    found = zxingcpp.read_barcodes(
        pixels, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    if not found:
        raise QrImageError(f"no QR code was found in {path.name}")
    return found[0]
