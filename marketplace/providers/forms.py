"""Forms of the provider pages: registration, the provider's own edits, officers' decisions."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import DateField, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from core import settings, uploads, uscc
from core.forms import MultiCheckboxField
from core.i18n import current_locale
from marketplace.providers.models import DocumentKind, ProviderKind
from marketplace.providers.operations import top_categories

ACCEPT = {"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}


def file_help() -> str:
    return _("PDF, JPEG or PNG, at most %(mb)d MB each. Images are re-encoded and their metadata removed.",
             mb=settings.get(uploads.MAX_MB.key))


def category_choices():
    english = current_locale() == "en"
    return [(c.id, (c.name_en or c.name) if english else c.name) for c in top_categories()]


class ProviderDetailsForm(FlaskForm):
    name = StringField(_l("Registered name of the organisation"), validators=[DataRequired(), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(max=40)],
                              description=_l("18 characters, as printed on the registration certificate or "
                                             "business licence."),
                              render_kw={"autocomplete": "off", "spellcheck": "false"})
    kind = SelectField(_l("Kind of organisation"), choices=[(k.value, k.label) for k in ProviderKind])
    legal_representative = StringField(_l("Legal representative"), validators=[DataRequired(), Length(max=60)])
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=60)])
    contact_phone = StringField(_l("Contact phone"), validators=[DataRequired(), Length(max=30)],
                                render_kw={"inputmode": "tel", "autocomplete": "tel"})
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    introduction = TextAreaField(_l("Introduction"), validators=[Optional(), Length(max=5000)],
                                 description=_l("What the organisation does, its experience and team."),
                                 render_kw={"rows": 4})
    category_ids = MultiCheckboxField(_l("Service categories"), coerce=int)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category_ids.choices = category_choices()

    def validate_credit_code(self, field):
        try:
            field.data = uscc.validate(field.data)
        except uscc.CodeError as e:
            raise ValidationError(str(e.message)) from None

    def validate_category_ids(self, field):
        if self.category_ids.choices and not field.data:
            raise ValidationError(str(_l("Choose at least one service category.")))

    def details(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "name", "credit_code", "kind", "legal_representative", "contact_name", "contact_phone", "address",
            "introduction", "category_ids") if name in self}


class RegistrationForm(ProviderDetailsForm):
    # The account, for someone who has none yet (removed when a logged-in user registers).
    login = StringField(_l("E-mail or mobile number (your login)"), validators=[DataRequired(), Length(max=254)],
                        render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             description=_l("At least 10 characters; not a common password."),
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"})
    certificate = FileField(_l("Registration certificate or business licence"), validators=[
        FileRequired(_l("Upload the registration certificate or business licence."))], render_kw=ACCEPT)
    qualifications = MultipleFileField(_l("Qualification documents (optional, several allowed)"),
                                       description=_l("Certificates, awards, proof of earlier services."),
                                       render_kw=ACCEPT)
    submit = SubmitField(_l("Register for review"))

    ACCOUNT_FIELDS = ("login", "password", "confirm")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.certificate.description = file_help()

    def drop_account_fields(self):
        for name in self.ACCOUNT_FIELDS:
            del self[name]

    def qualification_files(self) -> list:
        return [f for f in (self.qualifications.data or []) if getattr(f, "filename", "")]


class DocumentForm(FlaskForm):
    kind = SelectField(_l("Kind of document"), choices=[(k.value, k.label) for k in DocumentKind],
                       default=DocumentKind.QUALIFICATION.value)
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))], render_kw=ACCEPT)
    submit = SubmitField(_l("Upload"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.file.description = file_help()


class ResubmitForm(FlaskForm):
    note = TextAreaField(_l("Note to the office (optional)"), validators=[Optional(), Length(max=2000)],
                         render_kw={"rows": 2})
    submit = SubmitField(_l("Resubmit for review"))


# --- officers --------------------------------------------------------------------------------

class ApproveForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    submit = SubmitField(_l("Approve"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the provider reads it)"), validators=[DataRequired(), Length(max=2000)],
                           render_kw={"rows": 3})
    submit = SubmitField(_l("Confirm"))


class SuspendForm(ReasonForm):
    last_day = DateField(_l("Last day of the suspension"), validators=[DataRequired()])
    submit = SubmitField(_l("Suspend"))


DECISION_FORMS = {
    "approve": (ApproveForm, "approve"),
    "reject": (ReasonForm, "reject"),
    "request_documents": (ReasonForm, "docs"),
    "suspend": (SuspendForm, "suspend"),
    "blacklist": (ReasonForm, "blacklist"),
    "lift": (ReasonForm, "lift"),
}


def decision_forms(bound: str | None = None) -> dict:
    """One form per decision, each with its own prefix so they can share a page; only `bound`
    takes the submitted data."""
    return {key: cls(prefix=prefix, **({} if key == bound else {"formdata": None}))
            for key, (cls, prefix) in DECISION_FORMS.items()}
