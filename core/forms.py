"""WTForms for the account, area, venue and admin pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core.models import ROLE_LABELS, VENUE_KIND_LABELS, AreaLevel, Role


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def coerce_optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class LoginForm(FlaskForm):
    login = StringField(_l("E-mail or mobile number"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Log in"))


class RegisterForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    login = StringField(_l("E-mail or mobile number"), validators=[DataRequired(), Length(max=254)])
    community_id = SelectField(_l("Your village / community"), coerce=coerce_optional_int,
                               validators=[InputRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             description=_l("At least 10 characters; not a common password."))
    confirm = PasswordField(_l("Repeat password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])
    submit = SubmitField(_l("Register"))


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired()],
                             description=_l("At least 10 characters; not a common password."))
    confirm = PasswordField(_l("Repeat new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])
    submit = SubmitField(_l("Change password"))


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


class ConfirmForm(FlaskForm):
    """A bare form for POST-only buttons (CSRF token included)."""

    submit = SubmitField(_l("Confirm"))


LEVEL_CHOICES = [(lv.value, lv.label) for lv in AreaLevel]


class AreaForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    level = SelectField(_l("Level"), choices=LEVEL_CHOICES)
    parent_id = SelectField(_l("Parent area"), coerce=coerce_optional_int)
    population = IntegerField(_l("Population"), validators=[InputRequired(), NumberRange(min=0)])
    submit = SubmitField(_l("Save"))


class VenueForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=[(k.value, v) for k, v in VENUE_KIND_LABELS.items()])
    area_id = SelectField(_l("Area"), coerce=coerce_optional_int, validators=[InputRequired()])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    capacity = IntegerField(_l("Capacity (people)"), validators=[InputRequired(), NumberRange(min=0)])
    active = BooleanField(_l("In use"), default=True)
    submit = SubmitField(_l("Save"))


class ImportForm(FlaskForm):
    file = FileField(_l("File (.xlsx or .csv)"), validators=[
        FileRequired(), FileAllowed(["xlsx", "csv"], _l("Upload an .xlsx or .csv file."))])
    submit = SubmitField(_l("Import"))


class SettingForm(FlaskForm):
    value = StringField(_l("Value"), validators=[DataRequired()])
    submit = SubmitField(_l("Save"))
