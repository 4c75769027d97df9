"""WTForms for signing in, resident registration and the password change."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from core.forms import coerce_optional_int


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


class PhoneForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[DataRequired(message=_l("Enter your mobile number."))],
                        description=_l("We send a 6-digit code to this number by text message."))
    next = HiddenField()
    submit = SubmitField(_l("Send me a code"))


class PhoneCodeForm(FlaskForm):
    phone = HiddenField(validators=[DataRequired()])
    code = StringField(_l("Code from the text message"),
                       validators=[DataRequired(message=_l("Enter the 6-digit code from the text message."))],
                       description=_l("6 digits, valid for 5 minutes."))
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class CommunityForm(FlaskForm):
    community_id = SelectField(_l("Your village / community"), coerce=coerce_optional_int,
                               validators=[InputRequired()])
    submit = SubmitField(_l("Save"))
