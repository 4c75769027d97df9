"""WTForms for the account, area, venue and admin pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    SelectMultipleField,
    SubmitField,
)
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def coerce_optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class ConfirmForm(FlaskForm):
    """A bare form for POST-only buttons (CSRF token included)."""

    submit = SubmitField(_l("Confirm"))


class ImportForm(FlaskForm):
    file = FileField(_l("File (.xlsx or .csv)"), validators=[
        FileRequired(), FileAllowed(["xlsx", "csv"], _l("Upload an .xlsx or .csv file."))])
    submit = SubmitField(_l("Import"))


