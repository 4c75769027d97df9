"""WTForms for the holiday calendar page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from core import workdays


class HolidayForm(FlaskForm):
    day = DateField(_l("Day"), validators=[InputRequired(message=_l("Enter a date."))])
    kind = SelectField(_l("Kind"), choices=list(workdays.KIND_LABELS.items()), default=workdays.KIND_HOLIDAY)
    name = StringField(_l("Name"), validators=[Optional(), Length(max=60)],
                       description=_l("For example 国庆节 or 春节调休."))
    submit = SubmitField(_l("Add"))
