"""WTForms for the contract pages. Rules live in marketplace.contracts.operations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class GenerateForm(FlaskForm):
    start_date = DateField(_l("Service starts"), validators=[InputRequired()])
    end_date = DateField(_l("Service ends"), validators=[InputRequired()])
    terms = TextAreaField(_l("Further terms"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Generate the contract"))


class TerminateForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField(_l("Terminate the contract"))
