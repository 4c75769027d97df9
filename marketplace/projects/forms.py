"""WTForms for the project, clarification and bid pages. Rules live in the operations; these
forms only shape the input (blank line and criterion rows are ignored)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.forms import coerce_optional_int
from marketplace.projects.models import CriterionKind, ProjectMethod

METHOD_CHOICES = [(m.value, m.label) for m in ProjectMethod]
CRITERION_KINDS = [(k.value, k.label) for k in CriterionKind]
LINE_ROWS = 4
CRITERION_ROWS = 8


class LineForm(Form):
    item_id = SelectField(_l("Catalog item"), coerce=coerce_optional_int, validate_choice=False)
    venue_id = SelectField(_l("Venue"), coerce=coerce_optional_int, validate_choice=False)
    quantity = IntegerField(_l("Quantity"), validators=[Optional()])


class CriterionForm(Form):
    kind = SelectField(_l("Kind"), choices=[("", "—"), *CRITERION_KINDS], validate_choice=False)
    title = StringField(_l("Criterion"), validators=[Optional(), Length(max=120)])
    weight = StringField(_l("Weight"), validators=[Optional(), Length(max=10)])
    min_score = StringField(_l("Lowest score"), validators=[Optional(), Length(max=10)])
    max_score = StringField(_l("Highest score"), validators=[Optional(), Length(max=10)])
    rubric = TextAreaField(_l("Rubric / requirement"), validators=[Optional(), Length(max=4000)])


class ProjectForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])
    method = SelectField(_l("Purchase method"), choices=METHOD_CHOICES)
    justification = TextAreaField(_l("Justification (required for single source)"),
                                  validators=[Optional(), Length(max=4000)])
    budget = StringField(_l("Budget (yuan)"), validators=[DataRequired(), Length(max=20)])
    bid_deadline = StringField(_l("Bid deadline (Beijing time)"), validators=[Optional()],
                               description=_l("May stay empty in a draft; required to publish."))
    lines = FieldList(FormField(LineForm), min_entries=LINE_ROWS)
    criteria = FieldList(FormField(CriterionForm), min_entries=CRITERION_ROWS)
    submit = SubmitField(_l("Save"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Cancel the project"))


class QuestionForm(FlaskForm):
    question = TextAreaField(_l("Your question"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Ask"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField(_l("Publish the answer"))


