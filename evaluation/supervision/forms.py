"""WTForms of the supervision pages; the rules live in evaluation.supervision.operations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, MultipleFileField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from evaluation.supervision.models import SubjectType


class RaiseForm(FlaskForm):
    subject_type = SelectField(_l("About"), choices=[(k.value, k.label) for k in SubjectType],
                               validators=[DataRequired()])
    subject_id = IntegerField(_l("Number of the project, provider, session, venue or area"),
                              validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    text = TextAreaField(_l("What is the issue?"), validators=[DataRequired(), Length(max=5000)])
    evidence = MultipleFileField(_l("Evidence (PDF, JPEG or PNG)"))
    submit = SubmitField(_l("Raise the item"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField(_l("Answer the item"))


class FollowForm(FlaskForm):
    submit = SubmitField(_l("Follow this item"))
