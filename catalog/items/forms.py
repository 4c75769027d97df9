"""WTForms for the catalog and demand pages. Business rules live in the operations; these forms
only carry the input (the price ceiling stays text so the operation can say what is wrong with it)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from catalog.items.models import TARGET_GROUP_LABELS, ItemStatus
from core.areas.models import AreaLevel
from core.forms import MultiCheckboxField, coerce_optional_int


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=100)])
    parent_id = SelectField(_l("Parent category"), coerce=coerce_optional_int,
                            description=_l("Leave empty for a top category."))
    position = IntegerField(_l("Position in lists"), default=0, validators=[Optional(), NumberRange(min=0, max=9999)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Save"))


class ItemForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=30)],
                       description=_l("Stable and unique, e.g. WY-001."))
    category_id = SelectField(_l("Category"), coerce=coerce_optional_int, validators=[InputRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=160)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    standard_content = TextAreaField(_l("Service content"), validators=[DataRequired(), Length(max=4000)])
    standard_duration = StringField(_l("Duration"), validators=[Optional(), Length(max=120)],
                                    description=_l("e.g. at least 90 minutes per session"))
    standard_staffing = StringField(_l("Staffing"), validators=[Optional(), Length(max=200)],
                                    description=_l("e.g. at least 12 performers, 1 stage manager"))
    standard_quality = TextAreaField(_l("Quality requirements"), validators=[Optional(), Length(max=4000)])
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=10)],
                       description=_l("场 (performance), 课时 (lesson hour), 期 (course) …"))
    price_ceiling = StringField(_l("Price ceiling (yuan per unit)"), validators=[DataRequired()])
    target_groups = MultiCheckboxField(_l("Target groups"),
                                       choices=[(k.value, v) for k, v in TARGET_GROUP_LABELS.items()])
    levels = MultiCheckboxField(_l("Levels where it may be bought"), choices=[(lv.value, lv.label) for lv in AreaLevel])
    note = TextAreaField(_l("Why this change (kept with the revision)"), validators=[Optional(), Length(max=1000)])
    base_revision = HiddenField()
    submit = SubmitField(_l("Save"))


class StatusDecisionForm(FlaskForm):
    status = SelectField(_l("New status"), choices=[])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)],
                           description=_l("Shown to the public on the item's page."))
    submit = SubmitField(_l("Record the decision"))

    def set_choices(self, item):
        from catalog.items.models import STATUS_TRANSITIONS

        self.status.choices = [(s.value, s.label) for s in STATUS_TRANSITIONS[ItemStatus(item.status)]]


