"""WTForms for the areas and venues pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core import geo
from core.areas.models import VENUE_KIND_LABELS, AreaLevel
from core.forms import coerce_optional_int

LEVEL_CHOICES = [(lv.value, lv.label) for lv in AreaLevel]
COORDINATE_CHOICES = list(geo.COORDINATE_SYSTEMS.items())


class AreaForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    level = SelectField(_l("Level"), choices=LEVEL_CHOICES)
    parent_id = SelectField(_l("Parent area"), coerce=coerce_optional_int)
    population = IntegerField(_l("Population"), validators=[InputRequired(), NumberRange(min=0)])
    latitude = StringField(_l("Latitude (°, north positive)"), validators=[Optional(), Length(max=20)])
    longitude = StringField(_l("Longitude (°, east positive)"), validators=[Optional(), Length(max=20)])
    coordinate_system = SelectField(_l("Coordinates given in"), choices=COORDINATE_CHOICES, default=geo.WGS84)
    submit = SubmitField(_l("Save"))


class VenueForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=[(k.value, v) for k, v in VENUE_KIND_LABELS.items()])
    area_id = SelectField(_l("Area"), coerce=coerce_optional_int, validators=[InputRequired()])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    capacity = IntegerField(_l("Capacity (people)"), validators=[InputRequired(), NumberRange(min=0)])
    active = BooleanField(_l("In use"), default=True)
    latitude = StringField(_l("Latitude (°, north positive)"), validators=[Optional(), Length(max=20)])
    longitude = StringField(_l("Longitude (°, east positive)"), validators=[Optional(), Length(max=20)])
    coordinate_system = SelectField(_l("Coordinates given in"), choices=COORDINATE_CHOICES, default=geo.WGS84)
    submit = SubmitField(_l("Save"))
