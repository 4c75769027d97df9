"""The unified social credit code (GB 32100-2015): valid codes pass, each broken rule is named."""

import pytest
from flask_babel import force_locale
from hypothesis import given
from hypothesis import strategies as st

from core import uscc

# Published codes of real organisations (they appear on public business licences).
REAL_CODES = ["91350100M000100Y43", "91110000600037341L", "91110108551385082Q"]

authority_and_type = st.sampled_from([(a, t) for a, (_n, types) in uscc.AUTHORITIES.items() for t in types])
divisions = st.tuples(st.sampled_from(sorted(uscc.PROVINCES)), st.text("0123456789", min_size=4, max_size=4)).map(
    "".join)
bodies = st.text(uscc.ALPHABET, min_size=8, max_size=8)


@st.composite
def valid_codes(draw):
    authority, kind = draw(authority_and_type)
    return uscc.complete(authority, kind, draw(divisions), draw(bodies))


def _rule(code):
    with pytest.raises(uscc.CodeError) as info:
        uscc.validate(code)
    return info.value


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert uscc.validate(code) == code
    assert uscc.check_character(code[:17]) == code[17]
    assert uscc.org_check_character(code[8:16]) == code[16]


def test_the_check_characters_follow_the_standard_by_hand():
    # 91350100M000100Y43: organisation code M000100Y-4, final check 3.
    values = [uscc.VALUES[c] for c in "91350100M000100Y4"]
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert weights == uscc.WEIGHTS
    assert uscc.ALPHABET[(31 - sum(v * w for v, w in zip(values, weights, strict=True)) % 31) % 31] == "3"
    org = [22, 0, 0, 0, 1, 0, 0, 34]  # M=22, Y=34 in GB 11714
    assert 11 - sum(v * w for v, w in zip(org, [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11 == 4


@given(valid_codes())
def test_every_completed_code_is_valid(code):
    assert uscc.validate(code) == code
    assert uscc.describe(code) is not None


@given(valid_codes(), st.integers(0, 17), st.sampled_from(uscc.ALPHABET))
def test_any_single_changed_character_is_caught(code, position, replacement):
    if code[position] == replacement:
        replacement = uscc.ALPHABET[(uscc.VALUES[replacement] + 1) % 31]
    changed = code[:position] + replacement + code[position + 1:]
    assert not uscc.is_valid(changed)


@given(valid_codes(), st.integers(0, 15))
def test_swapping_two_neighbours_in_the_first_17_is_caught(code, position):
    a, b = code[position], code[position + 1]
    if a == b:
        return
    swapped = code[:position] + b + a + code[position + 2:]
    assert not uscc.is_valid(swapped)


@given(valid_codes())
def test_lower_case_spaces_and_full_width_characters_are_normalised(code):
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code[:6])
    typed = f" {full_width}{code[6:12].lower()} {code[12:]} "
    assert uscc.validate(typed) == code


@pytest.mark.parametrize(("code", "rule", "position", "says"), [
    ("9135010", "length", None, "this one has 7"),
    ("91350100M000100Y4322", "length", None, "this one has 20"),
    ("9135I100M000100Y43", "character", 5, "Character I at position 5"),
    ("91350100M00010OY43", "character", 15, "Character O at position 15"),
    ("91350100M000100Y4S", "character", 18, "Character S at position 18"),
    ("B1350100M000100Y43", "authority", 1, "Position 1 (B)"),
    ("94350100M000100Y43", "organisation_type", 2, "organisation type of registration authority 9"),
    ("Y2350100M000100Y43", "organisation_type", 2, "Position 2 (2)"),
    ("91A50100M000100Y43", "division", 3, "administrative division"),
    ("91990100M000100Y43", "division", 3, "(990100)"),
    ("91350100M000100Y53", "organisation_check", 17, "M000100Y5"),
    ("91350100M000100Y44", "check", 18, "position 18"),
])
def test_each_broken_rule_is_named(code, rule, position, says):
    error = _rule(code)
    assert error.rule == rule
    assert error.position == position
    assert says in str(error)


def test_a_wrong_organisation_check_is_reported_even_when_the_final_check_fits():
    first17 = "52110115MA01JN5T" + "0"  # the organisation check of MA01JN5T is 3, not 0
    code = first17 + uscc.check_character(first17)
    assert _rule(code).rule == "organisation_check"


def test_complete_builds_valid_codes_with_both_check_characters():
    code = uscc.complete("5", "2", "110115", "MA01JN5T")
    assert code == "52110115MA01JN5T3W"
    assert uscc.validate(code) == code
    described = uscc.describe(code)
    assert (described.authority, described.organisation_type, described.division) == ("民政", "民办非企业单位",
                                                                                       "110115")


def test_messages_are_bilingual(app):
    with app.test_request_context():
        with force_locale("zh_CN"):
            assert "第 18 位校验码不符" in str(_rule("91350100M000100Y44").message)
            assert "第 5 位的字符 I 不允许" in str(_rule("9135I100M000100Y43").message)
            assert "应为 18 位，此代码为 7 位" in str(_rule("9135010").message)
        with force_locale("en"):
            assert "does not match" in str(_rule("91350100M000100Y44").message)
