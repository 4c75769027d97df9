"""WTForms of the expert database pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from core.forms import MultiCheckboxField


class ExpertForm(FlaskForm):
    login = StringField(_l("Login (e-mail or mobile number)"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Initial password"), validators=[Optional()],
                             description=_l("Needed only when the login does not exist yet."))
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=60)])
    title = StringField(_l("Professional title"), validators=[Optional(), Length(max=60)])
    employer = StringField(_l("Employer"), validators=[DataRequired(), Length(max=200)])
    employer_credit_code = StringField(_l("Employer's unified social credit code"),
                                       validators=[DataRequired(), Length(max=22)])
    specialty_ids = MultiCheckboxField(_l("Specialties (catalog categories)"), coerce=int)
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    email = StringField(_l("Contact e-mail"), validators=[Optional(), Length(max=254)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    active = BooleanField(_l("Active (may be drawn)"), default=True)
    submit = SubmitField(_l("Save"))


class ExpertEditForm(ExpertForm):
    login = None
    password = None


class ConflictForm(FlaskForm):
    credit_code = StringField(_l("Organisation's unified social credit code"),
                              validators=[DataRequired(), Length(max=22)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    reason = StringField(_l("Why you have a conflict"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Declare"))
