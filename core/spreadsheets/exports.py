"""Downloads of list pages as .xlsx and .csv: exactly the rows the list shows, every page of them,
with the page's own filters and scope (a town officer gets their jurisdiction, as on the page).

One way for every list. Giving a list page its downloads takes three steps:

1. Describe its columns once, beside the view — a header id (translated when the file is written)
   and where the value comes from (a dotted attribute path, or a function of the row)::

       CONTRACTS = Table("contracts", [
           Column(_l("Number"), "number"),
           Column(_l("Project"), "project.title"),
           Column(_l("Amount"), "amount"),                 # Decimal: a number in the file
           Column(_l("State"), "state"),                   # an enum: its label
           Column(_l("Service starts"), "start_date"),
       ], options=[selectinload(Contract.project)], audited=False)

2. In the view, build the filtered (and scoped) SELECT once and hand it over before paginating::

       stmt = ...the page's filters and the user's jurisdiction...
       if wants_export():
           return CONTRACTS.download(stmt)
       return render_template(..., page=Page(stmt))

3. In the list's template, show the two links (they keep the page's filters, drop `page`)::

       {% from "macros.html" import export_links %}
       {{ export_links() }}

   A page with several lists gives each its name, `export_links('complaints')`, and the view picks
   the table by `request.args["list"]` (see the ratings review queue).

Then add the endpoint to EXPORTS in tests/test_exports.py: a test fails for any paginated officer or
admin list page that is not there, and downloads each one listed in both formats.

Values are written by type: datetimes in Asia/Shanghai (real date cells in .xlsx), Decimal money
and numbers as numbers, labelled enums and lazy strings as their Chinese text, booleans as 是/否,
lists joined with 、. Rows are read in batches (`yield_per`) with the table's eager-loading
`options`, so a large export neither loads everything at once nor queries per row; a column that
needs figures for many rows at once (counts, say) takes them from `batch`, which is called once
per batch of rows and whose result the column receives as its second argument (`batch=True`).
The .csv streams as it is read.

The statement must be the very one the page paginates, so the download has the page's scope. A
column must never read a bid's sealed contents; a bid's price is public only through the opening
record (see the projects list).

Exports of data that matter (`audited=True`: users, the audit log, providers, experts) write an
audit event naming who exported what, with which filters.
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
from sqlalchemy import Executable, func, select

from core import audit
from core.db import db
from core.i18n import local_now, to_local
from core.spreadsheets.files import _cell

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

    def __post_init__(self):
        path = tuple(self.value.split(".")) if isinstance(self.value, str) else None
        object.__setattr__(self, "_path", path)

    def of(self, row, figures):
        if self._path is not None:
            v = row
            for part in self._path:
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

    def batches(self, stmt) -> Iterator[list[list]]:
        """The statement's rows as lists of raw values, a batch at a time.

        A list built in Python (a tree, a registry) is read at once, here: its objects belong to the
        request's session, which is closed by the time a streamed .csv is written. A statement is
        read as the file is written, in the session of the stream's own context."""
        if not isinstance(stmt, Executable):
            rows = list(stmt)
            figures = self.batch(rows) if self.batch else None
            return iter([[[c.of(row, figures) for c in self.columns] for row in rows]])
        return self._read(stmt)

    def _read(self, stmt) -> Iterator[list[list]]:
        if self.options:
            stmt = stmt.options(*self.options)
        result = db.session.execute(stmt.execution_options(yield_per=BATCH))
        if self.scalars:
            result = result.scalars()
        columns = self.columns
        for part in result.partitions():
            figures = self.batch(part) if self.batch else None
            yield [[c.of(row, figures) for c in columns] for row in part]

    def download(self, stmt, fmt: str | None = None) -> Response:
        """The response for `?format=xlsx|csv` (or `fmt`): every row of `stmt`, unpaginated.
        `stmt` may also be a list of rows, for the few lists that are not one SELECT."""
        fmt = fmt or requested_format()
        if self.audited:
            filters = {k: v for k, v in request.args.items() if k not in ("format", "page") and v}
            count = (db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
                     if isinstance(stmt, Executable) else len(stmt))
            audit.record("export." + self.name, object_type=self.name, format=fmt, rows=count, filters=filters)
        filename = f"{self.name}-{local_now():%Y%m%d-%H%M}.{fmt}"
        if fmt == "csv":
            return _download(stream_with_context(csv_chunks(self.headers(), self.batches(stmt))), filename,
                             "text/csv; charset=utf-8")
        return _download(xlsx_bytes(self.headers(), self.batches(stmt)), filename, XLSX_TYPE)


def csv_chunks(headers: list[str], batches: Iterable[list[list]]) -> Iterator[bytes]:
    """A CSV file a batch of rows at a time, with a BOM so spreadsheet programs on Chinese Windows
    read UTF-8."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers)
    yield ("\ufeff" + buf.getvalue()).encode()
    for rows in batches:
        buf.seek(0)
        buf.truncate()
        writer.writerows([[_text(v) for v in row] for row in rows])
        yield buf.getvalue().encode()


def xlsx_bytes(headers: list[str], batches: Iterable[list[list]]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(headers)
    for rows in batches:
        for row in rows:
            ws.append([_xlsx_cell(ws, v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_PLAIN = {str, int, float, Decimal}


def _plain(v):
    """A value as a number, text, a local date/time, or None."""
    if v is None or type(v) in _PLAIN:  # exact types: str enums and bool fall through
        return v
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
    if type(v) is str:
        return _cell(v)
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
