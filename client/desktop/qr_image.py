"""Reading an invite's QR code from an image file (the coordinator's PNG, or a photo).

``zxing-cpp`` decodes it: a maintained binding of the ZXing C++ library with wheels that
carry the library itself, where pyzbar would need a system package.
"""

from __future__ import annotations

from pathlib import Path

import zxingcpp
from PySide6.QtGui import QImage

from crypto.errors import CasecircleError


class InviteImageError(CasecircleError):
    """The image could not be read, or holds no QR code."""

    code = "invite_image"


def read_qr_text(path: Path) -> str:
    """The text of the first QR code found in the image at ``path``."""
    image = QImage(str(path))
    if image.isNull():
        raise InviteImageError(f"{path.name} is not an image this app can read")
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    rows, stride = grey.height(), grey.bytesPerLine()
    pixels = memoryview(bytes(grey.constBits())[: rows * stride]).cast("B", (rows, stride))
    found = zxingcpp.read_barcodes(
        pixels, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    if not found:
        raise InviteImageError(f"no QR code was found in {path.name}")
    text: str = found[0].text
    return text
