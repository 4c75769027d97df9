"""Downloads of list pages as .xlsx and .csv: exactly the rows the list shows, every page of them,
with the page's own filters and scope (a town officer gets their jurisdiction, as on the page).

One way for every list. Giving a list page its downloads takes three steps:

1. Describe its columns once, beside the view — a header id (translated when the file is written)
   and where the value comes from (a dotted attribute path, or a function of the row)::

       USERS = Table("users", [
           Column(_l("Login"), "login"),
           Column(_l("Name"), "name"),
           Column(_l("Roles"), lambda u: [r.label for r in sorted(u.roles)]),
           Column(_l("Created"), "created_at"),
       ], options=[selectinload(User.role_rows)], audited=True)

2. In the view, build the filtered SELECT once and hand it over before paginating::

       stmt = ...the page's filters and scope...
       if wants_export():
           return USERS.download(stmt)
       return render_template(..., page=Page(stmt))

3. In the list's template, show the two links (they keep the page's filters)::

       {% from "macros.html" import export_links %}{{ export_links() }}

Values are written by type: datetimes in Asia/Shanghai (real date cells in .xlsx), Decimal money
and numbers as numbers, labelled enums and lazy strings as their Chinese text, booleans as 是/否,
lists joined with 、. Rows are read in batches (`yield_per`) with the table's eager-loading
`options`, so a large export neither loads everything at once nor queries per row; a column that
needs figures for many rows at once (counts, say) takes them from `batch`, which is called once
per batch of rows and whose result the column receives as its second argument (`batch=True`).
The .csv streams as it is read.

Exports of data that matter (`audited=True`: users, the audit log, providers, experts) write an
audit event naming who exported what, with which filters.

The list of pages that have downloads is kept in tests/test_exports.py, with the rule that finds
list pages which lack one.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from flask import Response, abort, request, stream_with_context, url_for
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import func, select

from core import audit
from core.db import db
from core.i18n import local_now, to_local
from core.tabular import _cell

FORMATS = ("xlsx", "csv")
BATCH = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_url(fmt: str, list_name: str | None = None) -> str:
    """This page's URL with its filters, asking for a download (the template macro's links)."""
    args = {k: v for k, v in request.args.items() if k not in ("page", "format", "list")}
    if list_name:
        args["list"] = list_name
    return url_for(request.endpoint, **(request.view_args or {}), **args, format=fmt)


def wants_export() -> bool:
    """Whether the request asks for a download (`?format=...`) rather than the page."""
    return "format" in request.args


def requested_format(default: str = "") -> str:
    """`xlsx` or `csv` from `?format=`; anything else is refused with a message that says why."""
    fmt = request.args.get("format", default).strip().lower()
    if fmt not in FORMATS:
        abort(400, description=_("Unknown download format “%(f)s”: use xlsx or csv.", f=fmt[:20]))
    return fmt


@dataclass(frozen=True)
class Column:
    """One column: its header id and where its value comes from.

    `value` is a dotted attribute path ("area.name") or a function of the row; with `batch=True`
    the function is called as `value(row, figures)` with what the table's `batch` returned for the
    row's batch.
    """

    header: Any
    value: str | Callable
    batch: bool = False

    def of(self, row, figures):
        if isinstance(self.value, str):
            v = row
            for part in self.value.split("."):
                if v is None:
                    return None
                v = getattr(v, part)
            return v
        return self.value(row, figures) if self.batch else self.value(row)


@dataclass
class Table:
    """A list's columns, and how to read its rows for a download.

    `scalars`: the statement selects one entity (False: rows of several, as `Page(scalars=False)`).
    `options`: loader options (selectinload) that spare a query per row.
    `batch`: rows -> figures, for columns declared with `batch=True`.
    `audited`: exporting writes an audit event.
    """

    name: str
    columns: list[Column]
    scalars: bool = True
    options: list = field(default_factory=list)
    batch: Callable[[list], Any] | None = None
    audited: bool = False

    def headers(self) -> list[str]:
        return [str(c.header) for c in self.columns]

    def rows(self, stmt) -> Iterator[list]:
        """The statement's rows as lists of raw values, read in batches."""
        if self.options:
            stmt = stmt.options(*self.options)
        result = db.session.execute(stmt.execution_options(yield_per=BATCH))
        if self.scalars:
            result = result.scalars()
        for part in result.partitions():
            figures = self.batch(part) if self.batch else None
            for row in part:
                yield [c.of(row, figures) for c in self.columns]

    def download(self, stmt, fmt: str | None = None) -> Response:
        """The response for `?format=xlsx|csv` (or `fmt`): every row of `stmt`, unpaginated."""
        fmt = fmt or requested_format()
        if self.audited:
            filters = {k: v for k, v in request.args.items() if k not in ("format", "page") and v}
            count = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
            audit.record("export." + self.name, object_type=self.name, format=fmt, rows=count, filters=filters)
        filename = f"{self.name}-{local_now():%Y%m%d-%H%M}.{fmt}"
        if fmt == "csv":
            return _download(stream_with_context(csv_lines(self.headers(), self.rows(stmt))), filename,
                             "text/csv; charset=utf-8")
        return _download(xlsx_bytes(self.headers(), self.rows(stmt)), filename, XLSX_TYPE)


def csv_lines(headers: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    """A CSV file line by line, with a BOM so spreadsheet programs on Chinese Windows read UTF-8."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers)
    yield ("\ufeff" + buf.getvalue()).encode()
    for row in rows:
        buf.seek(0)
        buf.truncate()
        writer.writerow([_text(v) for v in row])
        yield buf.getvalue().encode()


def xlsx_bytes(headers: list[str], rows: Iterable[list]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(headers)
    for row in rows:
        ws.append([_xlsx_cell(ws, v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _plain(v):
    """A value as a number, text, a local date/time, or None."""
    if isinstance(v, bool):
        return _("Yes") if v else _("No")
    if isinstance(v, enum.Enum):  # before str: most enums here are str enums
        return str(getattr(v, "label", v.value))
    if v is None or isinstance(v, int | float | Decimal | str):
        return v
    if isinstance(v, dt.datetime):
        return to_local(v).replace(tzinfo=None, microsecond=0)
    if isinstance(v, dt.date):
        return v
    if isinstance(v, list | tuple | set | frozenset):
        return "、".join(str(_text(x)) for x in v)
    return str(v)


def _text(v):
    v = _plain(v)
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return _cell(v)


def _xlsx_cell(ws, v):
    v = _plain(v)
    if isinstance(v, dt.datetime | dt.date):
        cell = WriteOnlyCell(ws, value=v)
        cell.number_format = "yyyy-mm-dd hh:mm:ss" if isinstance(v, dt.datetime) else "yyyy-mm-dd"
        return cell
    if isinstance(v, Decimal):
        return float(v)
    return _cell(v)


def _download(body, filename: str, mimetype: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return resp
