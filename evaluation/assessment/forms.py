"""WTForms of the assessment pages; the rules live in evaluation.assessment.operations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, MultipleFileField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp


class DrawForm(FlaskForm):
    month = StringField(_l("Month (YYYY-MM)"), validators=[
        DataRequired(), Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message=_l("Give the month as YYYY-MM."))])
    submit = SubmitField(_l("Draw the sampling plan"))


class AgencyForm(FlaskForm):
    name = StringField(_l("Agency name"), validators=[DataRequired(), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(min=18, max=18)])
    engaged_from = DateField(_l("Engaged from"), validators=[DataRequired()])
    engaged_until = DateField(_l("Engaged until"), validators=[DataRequired()])
    submit = SubmitField(_l("Add the agency"))


class VisitForm(FlaskForm):
    duration = BooleanField(_l("Duration met the standard"))
    staffing = BooleanField(_l("Staff met the standard"))
    content = BooleanField(_l("Content met the standard"))
    target_group = BooleanField(_l("Reached the target group"))
    counted_attendance = IntegerField(_l("Attendance you counted"),
                                      validators=[InputRequired(), NumberRange(min=0, max=100000)])
    score = IntegerField(_l("Score (0–100)"), validators=[InputRequired(), NumberRange(min=0, max=100)])
    findings = TextAreaField(_l("Findings"), validators=[Length(max=4000)])
    photos = MultipleFileField(_l("Photos (JPEG or PNG)"))
    submit = SubmitField(_l("Record the visit"))


class FalsificationForm(FlaskForm):
    note = TextAreaField(_l("What was falsified"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Confirm the falsification"))
