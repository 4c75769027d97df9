"""Spreadsheet import and export shared by every module (.xlsx and .csv).

Imports are all-or-nothing: `read_table` yields rows with their line numbers; the importer
collects every bad row into `RowErrors` and raises it before anything is written.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask import Response
from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook

from core.errors import Invalid

MAX_ROWS = 20_000


@dataclass
class RowErrors(Exception):
    """Every bad row of an import, each as (line, reason)."""

    errors: list[tuple[int, str]] = field(default_factory=list)

    def add(self, line: int, reason: str):
        self.errors.append((line, str(reason)))

    def __bool__(self):
        return bool(self.errors)

    def __str__(self):
        return "; ".join(f"{line}: {reason}" for line, reason in self.errors)


def read_table(filename: str, data: bytes, columns: dict[str, tuple[str, ...]],
               optional: tuple[str, ...] = ()) -> list[tuple[int, dict]]:
    """Rows as (line number, {field: text}) from an .xlsx or .csv upload.

    `columns` maps each field to the header names accepted for it (Chinese and English).
    Raises Invalid when the file cannot be read or a required header is missing; the fields
    named in `optional` may be left out of the file (their text is then "").
    """
    name = (filename or "").lower()
    if name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                raise Invalid(_("The file is not readable text (use UTF-8 or GB18030)."), "file") from None
        raw_rows = list(csv.reader(io.StringIO(text)))
    elif name.endswith(".xlsx"):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise Invalid(_("The file is not a readable .xlsx workbook."), "file") from None
        ws = wb.worksheets[0]
        raw_rows = [["" if v is None else str(v).strip() for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
    else:
        raise Invalid(_("Upload an .xlsx or .csv file."), "file")
    if not raw_rows:
        raise Invalid(_("The file is empty."), "file")
    if len(raw_rows) > MAX_ROWS + 1:
        raise Invalid(_("The file has more than %(n)d rows.", n=MAX_ROWS), "file")
    header = [h.strip().lower() for h in raw_rows[0]]
    index = {}
    for fld, names in columns.items():
        for n in names:
            if n.lower() in header:
                index[fld] = header.index(n.lower())
                break
        else:
            if fld in optional:
                continue
            raise Invalid(_("Column '%(c)s' is missing from the header row.", c=names[0]), "file")
    rows = []
    for line, raw in enumerate(raw_rows[1:], start=2):
        if not any(str(c).strip() for c in raw):
            continue
        row = dict.fromkeys(optional, "")
        row.update({f: (str(raw[i]).strip() if i < len(raw) else "") for f, i in index.items()})
        rows.append((line, row))
    return rows


def xlsx_response(filename: str, headers: list[str], rows) -> Response:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append([str(h) for h in headers])
    for row in rows:
        ws.append([_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return _download(buf.getvalue(), filename, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def csv_response(filename: str, headers: list[str], rows) -> Response:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([str(h) for h in headers])
    for row in rows:
        w.writerow([_cell(v) for v in row])
    # BOM so that spreadsheet programs on Chinese Windows read UTF-8.
    return _download(("\ufeff" + buf.getvalue()).encode(), filename, "text/csv; charset=utf-8")


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, int | float | str):
        # Guard against formula injection when the file is opened in a spreadsheet.
        if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") and not _is_number(v):
            return "'" + v
        return v
    return str(v)


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _download(body: bytes, filename: str, mimetype: str) -> Response:
    from urllib.parse import quote

    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return resp
