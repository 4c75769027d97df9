"""WTForms for the provider's bid page. Rules live in marketplace.bids.operations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.forms import MultiCheckboxField


class BidForm(FlaskForm):
    price = StringField(_l("Price (yuan)"), validators=[DataRequired(), Length(max=20)])
    plan = TextAreaField(_l("Service plan"), validators=[DataRequired(), Length(max=20_000)])
    team = TextAreaField(_l("Team"), validators=[Optional(), Length(max=5000)],
                         description=_l("Who will deliver the service: names, roles, qualifications."))
    conflicts = TextAreaField(_l("Declared conflicts of interest"),
                              validators=[Optional(), Length(max=5000)],
                              description=_l("Any relation to the purchasing office or its staff; empty if none."))
    keep = MultiCheckboxField(_l("Keep these attachments"), choices=[], validate_choice=False)
    files = MultipleFileField(_l("Attachments (PDF, JPEG or PNG)"))
    submit = SubmitField(_l("Submit the bid"))
