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




# WTForms' own "required" messages (English, and as its Chinese catalogue words them) say nothing
# of which field is meant; field_error puts the field's label in their place.
_GENERIC_REQUIRED = {"This field is required.", "该字段是必填字段。", "此字段必填。", "该字段为必填项。"}


def field_error(field, message) -> str:
    """The error `message` of `field` as shown to the user: a bare "required" names the field
    ("请输入统一社会信用代码"); any other message is shown as it is."""
    while isinstance(message, list | tuple | dict):  # a FieldList's or FormField's errors, nested
        values = list(message.values()) if isinstance(message, dict) else list(message)
        message = next((m for m in values if m), "")
    if str(message) not in _GENERIC_REQUIRED:
        return str(message)
    label = field.label.text if getattr(field, "label", None) is not None else field.name
    kind = getattr(field, "type", "")
    if kind in ("FileField", "MultipleFileField"):
        return str(_l("Choose a file for %(label)s", label=label))
    if kind in ("SelectField", "SelectMultipleField", "RadioField", "MultiCheckboxField", "BooleanField"):
        return str(_l("Choose %(label)s", label=label))
    return str(_l("Enter %(label)s", label=label))
