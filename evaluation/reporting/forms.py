"""WTForms for requesting reports: a provider report's period, the briefing's month."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired


class PeriodForm(FlaskForm):
    date_from = StringField(_l("From (YYYY-MM-DD)"), validators=[DataRequired()], render_kw={"type": "date"})
    date_to = StringField(_l("To (YYYY-MM-DD)"), validators=[DataRequired()], render_kw={"type": "date"})
    submit = SubmitField(_l("Produce the report"))


class OfficerProviderReportForm(PeriodForm):
    # A code or a name typed in, not a list: a district has thousands of providers.
    provider = StringField(_l("Provider: unified social credit code or full name"), validators=[DataRequired()])


class BriefingForm(FlaskForm):
    month = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired()], render_kw={"type": "month"})
    submit = SubmitField(_l("Produce the briefing"))
