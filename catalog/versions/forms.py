"""WTForms for the catalog version pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class VersionForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=120)],
                        description=_l("Leave empty for “Guidance catalog <year>”."))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Create the draft"))


class VersionEditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Save"))


class PublishForm(FlaskForm):
    publicity_days = IntegerField(_l("Publicity period (days)"), validators=[InputRequired()])
    submit = SubmitField(_l("Publish"))
