"""WTForms for ratings, complaints, replies, reviews and adjustment decisions. Rules live in
evaluation.ratings and evaluation.adjustment; these only shape the input."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

STAR_CHOICES = [(str(n), str(n)) for n in range(1, 6)]
# What each number of stars means, in words, on the rating page.
STAR_WORDS = {1: _l("Very unsatisfied"), 2: _l("Unsatisfied"), 3: _l("Neutral"), 4: _l("Satisfied"),
              5: _l("Very satisfied")}
# The three dimensions asked as plain questions.
DIMENSION_QUESTIONS = {"content": _l("Was the programme good?"), "organisation": _l("Was it well organised?"),
                       "venue": _l("Was the place comfortable?")}


class RatingForm(FlaskForm):
    content = RadioField(_l("Content"), choices=STAR_CHOICES, validate_choice=False)
    organisation = RadioField(_l("Organisation"), choices=STAR_CHOICES, validate_choice=False)
    venue = RadioField(_l("Venue and experience"), choices=STAR_CHOICES, validate_choice=False)
    comment = TextAreaField(_l("Comment (optional, at most 500 characters)"), validators=[Optional()])
    attendance_code = StringField(_l("Attendance code"), validators=[Optional(), Length(max=20)],
                                  description=_l("The 6 digits the organisers show at the event."))
    submit = SubmitField(_l("Send my rating"))


class ComplaintForm(FlaskForm):
    text = TextAreaField(_l("What went wrong?"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Lodge a complaint"))


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("Your public answer"), validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField(_l("Answer"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Hide the comment"))


class ReviewForm(FlaskForm):
    outcome = RadioField(_l("Finding"), choices=[("genuine", _l("Genuine: count it")),
                                                 ("reject", _l("Not genuine: reject it"))],
                         validators=[DataRequired()])
    note = StringField(_l("Note (required to reject)"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Record the finding"))


class ComplaintDecisionForm(FlaskForm):
    outcome = RadioField(_l("Decision"), choices=[("uphold", _l("Uphold")), ("dismiss", _l("Dismiss"))],
                         validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Decide"))


class ConfirmDecisionForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))


class OverrideForm(FlaskForm):
    reason = TextAreaField(_l("Reason for setting it aside"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Set aside"))


class AppealForm(FlaskForm):
    text = TextAreaField(_l("Why should it be reconsidered?"), validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField(_l("Appeal"))


class AppealAnswerForm(FlaskForm):
    outcome = RadioField(_l("Decision"), choices=[("uphold", _l("Uphold the appeal")),
                                                 ("dismiss", _l("Dismiss the appeal"))],
                         validators=[DataRequired()])
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField(_l("Answer the appeal"))
