"""Small files for upload and import tests, made in memory."""

from __future__ import annotations

import io


def png_bytes(size=(8, 6), colour=(200, 30, 40)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    from PIL import Image

    img = Image.new("RGB", (10, 10), (10, 200, 10))
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"  # Make
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def xlsx_bytes(rows) -> bytes:
    """A workbook with one sheet holding `rows` (the first row being the header, if any)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
