"""WTForms of the expert database and the review pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from core.forms import coerce_optional_int


class RecuseForm(FlaskForm):
    reason = StringField(_l("The conflict (one line)"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Recuse myself"))


class QualificationForm(FlaskForm):
    bid_id = HiddenField(validators=[DataRequired()])
    criterion_id = HiddenField(validators=[DataRequired()])
    passed = RadioField(_l("Finding"), choices=[("1", _l("Pass")), ("0", _l("Fail"))], validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Record"))


class AwardForm(FlaskForm):
    bid_id = RadioField(_l("Award to"), coerce=coerce_optional_int, validators=[InputRequired()])
    reason = TextAreaField(_l("Reason (required when not awarding the top-ranked bid; published)"),
                           validators=[Optional(), Length(max=2000)], render_kw={"rows": 3})
    submit = SubmitField(_l("Award and publish the result"))


class FailForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Declare the project failed"))
