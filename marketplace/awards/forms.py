"""WTForms for challenges: a bidder lodges one, an officer answers it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, RadioField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length


class ChallengeForm(FlaskForm):
    text = TextAreaField(_l("What you object to, and why"), validators=[DataRequired(), Length(max=5000)])
    files = MultipleFileField(_l("Supporting files (PDF, JPEG or PNG, at most 10 MB each)"))
    submit = SubmitField(_l("Lodge the challenge"))


ANSWERS = [("dismiss", _l("Dismiss")), ("review_again", _l("Uphold: back to review")),
           ("cancel", _l("Uphold: cancel the project"))]


class AnswerForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=ANSWERS, validators=[InputRequired()])
    answer = TextAreaField(_l("Answer (sent to the bidder)"), validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField(_l("Answer"))
