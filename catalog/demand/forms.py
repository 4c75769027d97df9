"""WTForms for the demand pages: a resident's request and support, an officer's decision."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from catalog.demand.models import DEMAND_STATUS_LABELS, DemandStatus
from core.forms import coerce_optional_int


class DemandForm(FlaskForm):
    venue_id = SelectField(_l("Venue in your community"), coerce=coerce_optional_int, validators=[InputRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)],
                         description=_l("When and for whom, e.g. weekend afternoons for the elderly."))
    submit = SubmitField(_l("Send the request"))


class SupportForm(FlaskForm):
    submit = SubmitField(_l("Support"))


class DemandDecisionForm(FlaskForm):
    status = SelectField(_l("Decision"), choices=[(s.value, DEMAND_STATUS_LABELS[s]) for s in
                                                   (DemandStatus.PLANNED, DemandStatus.FULFILLED,
                                                    DemandStatus.DECLINED)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)],
                           description=_l("The residents who asked will read it."))
    submit = SubmitField(_l("Record"))
