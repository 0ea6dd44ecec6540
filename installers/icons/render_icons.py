"""Render ops-desktop.svg to the raster icons the installers need (run after editing the SVG).

    QT_QPA_PLATFORM=offscreen .venv/bin/python installers/icons/render_icons.py

Writes ops-desktop.png (256 px: Linux), ops-desktop.ico (16-256 px: Windows) and
ops-desktop.icns (macOS) beside this file with Qt's own image writers; the results are committed
so a build machine needs nothing but PyInstaller.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
SVG = HERE / "ops-desktop.svg"


def render(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    QSvgRenderer(str(SVG)).render(painter)
    painter.end()
    return image


def png_bytes(size: int) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    render(size).save(buffer, "PNG")
    return bytes(data.data())


def ico_bytes(sizes: tuple[int, ...]) -> bytes:
    """An ICO holding one PNG per size (Windows Vista and later read PNG entries)."""
    images = [png_bytes(size) for size in sizes]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries = b""
    for size, image in zip(sizes, images, strict=True):
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
    return header + entries + b"".join(images)


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    (HERE / "ops-desktop.png").write_bytes(png_bytes(256))
    (HERE / "ops-desktop.ico").write_bytes(ico_bytes((16, 24, 32, 48, 64, 128, 256)))
    if b"icns" not in QImageWriter.supportedImageFormats():
        raise SystemExit("Qt cannot write ICNS here")
    if not render(512).save(str(HERE / "ops-desktop.icns"), "ICNS"):
        raise SystemExit("could not write ops-desktop.icns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
