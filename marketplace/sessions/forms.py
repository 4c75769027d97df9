"""WTForms for the session pages. Rules live in marketplace.session_ops; these only shape input."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.forms import coerce_optional_int


class ScheduleForm(FlaskForm):
    line_id = SelectField(_l("Contract line (item at venue)"), coerce=coerce_optional_int, validate_choice=False)
    scheduled_at = StringField(_l("Date and time (Beijing time)"), validators=[DataRequired()],
                               description=_l("For example 2026-12-05 19:30"))
    planned_audience = StringField(_l("Planned audience (people)"), validators=[DataRequired(), Length(max=10)])
    submit = SubmitField(_l("Schedule the session"))


class ReportForm(FlaskForm):
    actual_start = StringField(_l("Began at (Beijing time)"), validators=[DataRequired()])
    actual_end = StringField(_l("Ended at (Beijing time)"), validators=[DataRequired()])
    attendance = StringField(_l("Attendance (people)"), validators=[DataRequired(), Length(max=10)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    photos = MultipleFileField(_l("Photos (JPEG or PNG, at most 5)"))
    submit = SubmitField(_l("Report the session"))


class ConfirmForm(FlaskForm):
    acceptance_score = StringField(_l("Acceptance score (0–100)"), validators=[DataRequired(), Length(max=5)],
                                   description=_l("Measured against the item's service standard."))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Accept"))


class DisputeForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the dispute"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Dispute"))
