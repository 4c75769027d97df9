"""The unified social credit code (统一社会信用代码, GB 32100-2015).

Eighteen characters over a 31-character alphabet (digits and capitals without I, O, Z, S, V):

    1      registration authority (登记管理部门代码)
    2      organisation type within that authority (机构类别代码)
    3–8    administrative division of the registering authority (GB/T 2260)
    9–17   organisation code (组织机构代码, GB 11714) with its own check character at 17
    18     check character over the first 17

`validate()` returns the normalised code or raises `CodeError` naming the rule that failed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(ALPHABET)}
LENGTH = 18
# Final check character: weight of position i (1-based) is 3^(i-1) mod 31.
WEIGHTS = [pow(3, i, 31) for i in range(17)]
# GB 11714 organisation code: weights of the 8 body characters; check = 11 - (Σ mod 11).
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]

# Registration authorities and their organisation types: GB 32100-2015 tables 1 and 2, with the
# authorities added since by the national code system (2 外交 … 8 工会, A, N).
AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": ("司法行政", {"1": "律师执业机构", "2": "公证处", "3": "基层法律服务所", "4": "司法鉴定机构",
                   "5": "仲裁委员会", "9": "其他"}),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": ("旅游", {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地（大陆）代表机构", "9": "其他"}),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
}
# First two digits of a GB/T 2260 division (provinces, HK, Macao, Taiwan) and 10 for
# authorities at national level (e.g. 100000 for organisations registered by a ministry).
PROVINCES = frozenset({
    "10", "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
    "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
})


class CodeError(ValueError):
    """The code breaks one rule; `rule` names it, `message` says it to the user."""

    def __init__(self, rule: str, message, position: int | None = None):
        super().__init__(str(message))
        self.rule = rule
        self.message = message
        self.position = position


def normalise(raw: str | None) -> str:
    """Upper case, full-width characters folded, spaces and hyphens removed."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if not ch.isspace() and ch != "-").upper()


def org_check_character(body: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body."""
    if len(body) != 8:
        raise ValueError("an organisation code body has 8 characters")
    total = sum(_org_value(c) * w for c, w in zip(body, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _org_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    raise ValueError(f"not an organisation code character: {ch!r}")


def check_character(first17: str) -> str:
    """The final (18th) check character for the first 17 characters."""
    if len(first17) != 17:
        raise ValueError("the check character is computed over 17 characters")
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def complete(authority: str, kind: str, division: str, org_body: str) -> str:
    """A full code from its parts, both check characters computed (demo data and tests)."""
    first17 = f"{authority}{kind}{division}{org_body}{org_check_character(org_body)}"
    return first17 + check_character(first17)


def validate(raw: str | None) -> str:
    """Return the normalised code, or raise CodeError at the first rule it breaks."""
    code = normalise(raw)
    if len(code) != LENGTH:
        raise CodeError("length", _l("A unified social credit code has 18 characters; this one has %(n)d.",
                                     n=len(code)))
    for i, ch in enumerate(code, start=1):
        if ch not in VALUES:
            raise CodeError("character", _l("Character %(ch)s at position %(pos)d is not allowed: the code uses "
                                            "digits and capital letters except I, O, Z, S and V.",
                                            ch=ch, pos=i), position=i)
    authority = AUTHORITIES.get(code[0])
    if authority is None:
        raise CodeError("authority", _l("Position 1 (%(ch)s) is not a registration authority code.", ch=code[0]),
                        position=1)
    if code[1] not in authority[1]:
        raise CodeError("organisation_type", _l("Position 2 (%(ch)s) is not an organisation type of registration "
                                                "authority %(auth)s.", ch=code[1], auth=code[0]), position=2)
    division = code[2:8]
    if not division.isdigit() or division[:2] not in PROVINCES:
        raise CodeError("division", _l("Positions 3–8 (%(div)s) must be a 6-digit administrative division code.",
                                       div=division), position=3)
    org = code[8:17]
    if org[8] != org_check_character(org[:8]):
        raise CodeError("organisation_check", _l("The organisation code in positions 9–17 (%(org)s) fails its "
                                                 "check character.", org=org), position=17)
    if code[17] != check_character(code[:17]):
        raise CodeError("check", _l("The check character (position 18) does not match: the code is mistyped."),
                        position=18)
    return code


def is_valid(raw: str | None) -> bool:
    try:
        validate(raw)
    except CodeError:
        return False
    return True


@dataclass(frozen=True)
class Description:
    authority: str
    organisation_type: str
    division: str
    organisation_code: str


def describe(code: str) -> Description | None:
    """What a valid code says about its holder (shown to officers beside the declared kind)."""
    if not is_valid(code):
        return None
    code = normalise(code)
    name, kinds = AUTHORITIES[code[0]]
    return Description(name, kinds[code[1]], code[2:8], f"{code[8:16]}-{code[16]}")
