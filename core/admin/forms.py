"""WTForms for the admin pages: users and settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length

from core.accounts.models import ROLE_LABELS, Role
from core.forms import MultiCheckboxField, coerce_optional_int

ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in Role]


class UserForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    login = StringField(_l("E-mail or mobile number"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired()])
    roles = MultiCheckboxField(_l("Roles"), choices=ROLE_CHOICES, validators=[DataRequired()])
    jurisdiction_id = SelectField(_l("Jurisdiction (officers)"), coerce=coerce_optional_int)
    community_id = SelectField(_l("Village / community (residents)"), coerce=coerce_optional_int)
    submit = SubmitField(_l("Save"))


class UserEditForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    roles = MultiCheckboxField(_l("Roles"), choices=ROLE_CHOICES, validators=[DataRequired()])
    jurisdiction_id = SelectField(_l("Jurisdiction (officers)"), coerce=coerce_optional_int)
    community_id = SelectField(_l("Village / community (residents)"), coerce=coerce_optional_int)
    submit = SubmitField(_l("Save"))


class SettingForm(FlaskForm):
    value = StringField(_l("Value"), validators=[DataRequired()])
    submit = SubmitField(_l("Save"))
