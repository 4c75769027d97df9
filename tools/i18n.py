"""Translation catalogs, one per module so each module owns its own strings.

    python tools/i18n.py update    extract messages and merge them into each module's .po files
    python tools/i18n.py compile   compile every .po to .mo (run by the set-up)
    python tools/i18n.py check     list messages without a translation, or translated two ways
                                   by two modules; exit 1 if any
    python tools/i18n.py fill MODULE FILE.json   set zh_CN translations from {"msgid": "译文"}
    python tools/i18n.py absorb MODULE OTHER.po  take translations missing here from another
                                                 version of the catalog (after a merge)

A module's messages come from its Python files and from templates/<module>/; core also owns
the shared templates (base layout, macros, error pages).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("core", "catalog", "marketplace", "evaluation")
# Babel names Simplified Chinese (China) "zh_Hans_CN"; gettext looks for that folder.
LOCALES = ("zh_Hans_CN", "en")
METHOD_MAP = [("**.py", "python"), ("**.html", "jinja2")]
# Template folders a module owns besides templates/<module>/: core the shared error pages,

EXTRA_TEMPLATES = {"core": ("errors",)}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "lazy_ngettext": (1, 2)}


def sources(module: str) -> list[tuple[Path, str]]:
    """(directory, glob) pairs whose strings belong to the module."""
    out = [(ROOT / module, "**.py"), (ROOT / "templates" / module, "**.html")]
    out += [(ROOT / "templates" / folder, "**.html") for folder in EXTRA_TEMPLATES.get(module, ())]
    return out


def clashes() -> list[str]:
    """Ids translated differently by two modules. Flask-Babel merges the catalogs into one, so
    only one of the translations would ever show: give such ids one translation, or distinct
    English ids where the meanings differ."""
    seen: dict[tuple, dict[str, str]] = {}
    for module in MODULES:
        if not (ROOT / module).exists():
            continue
        for msg in load(po_path(module, "zh_Hans_CN"), "zh_Hans_CN"):
            if msg.id and msg.string:
                key = (msg.context, msg.id if isinstance(msg.id, str) else msg.id[0])
                seen.setdefault(key, {})[module] = msg.string if isinstance(msg.string, str) else msg.string[0]
    return [f"{key[1]!r}: " + ", ".join(f"{m} {t}" for m, t in by.items())
            for key, by in seen.items() if len(set(by.values())) > 1]


def extract(module: str) -> Catalog:
    cat = Catalog(project="huimin", charset="utf-8")
    for directory, pattern in sources(module):
        if not directory.exists():
            continue
        method = "python" if pattern.endswith(".py") else "jinja2"
        for filename, lineno, message, comments, context in extract_from_dir(
            directory, [(pattern, method)], keywords=KEYWORDS, comment_tags=("NOTE:",),
            options_map={"**.html": {"extensions": "jinja2.ext.do"}},
        ):
            if "translations" in filename:
                continue
            cat.add(message, None, [(str(directory.relative_to(ROOT) / filename), lineno)],
                    auto_comments=comments, context=context)
    if module == "core":
        for name in ("base.html", "macros.html"):
            path = ROOT / "templates" / name
            for filename, lineno, message, _comments, context in extract_from_dir(
                path.parent, [(name, "jinja2")], keywords=KEYWORDS,
            ):
                if filename == name:
                    cat.add(message, None, [(f"templates/{name}", lineno)], context=context)
    return cat


def po_path(module: str, locale: str) -> Path:
    return ROOT / module / "translations" / locale / "LC_MESSAGES" / "messages.po"


def load(path: Path, locale: str) -> Catalog:
    if path.exists():
        with path.open("rb") as f:
            return read_po(f, locale=locale)
    return Catalog(locale=locale, project="huimin", charset="utf-8")


def update():
    for module in MODULES:
        if not (ROOT / module).exists():
            continue
        template = extract(module)
        for locale in LOCALES:
            path = po_path(module, locale)
            cat = load(path, locale)
            cat.update(template, no_fuzzy_matching=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as f:
                write_po(f, cat, width=100, omit_header=False, ignore_obsolete=True)
        print(f"{module}: {len(template)} messages")


def compile_all():
    for module in MODULES:
        for locale in LOCALES:
            path = po_path(module, locale)
            if not path.exists():
                continue
            cat = load(path, locale)
            with path.with_suffix(".mo").open("wb") as f:
                write_mo(f, cat, use_fuzzy=False)


def missing() -> list[str]:
    """Messages in the code with no zh_CN translation (English is the source language)."""
    out = []
    for module in MODULES:
        if not (ROOT / module).exists():
            continue
        cat = load(po_path(module, "zh_Hans_CN"), "zh_Hans_CN")
        for msg in extract(module):
            if not msg.id:
                continue
            have = cat.get(msg.id, context=msg.context)
            strings = have.string if have else None
            ok = all(strings) if isinstance(strings, tuple | list) else bool(strings)
            if not ok or (have is not None and have.fuzzy):
                out.append(f"{module}: {msg.id if isinstance(msg.id, str) else msg.id[0]!r}")
    return out


def fill(module: str, json_path: str):
    import json

    pairs = json.loads(Path(json_path).read_text(encoding="utf-8"))
    path = po_path(module, "zh_Hans_CN")
    cat = load(path, "zh_Hans_CN")
    done = 0
    for msg in cat:
        if msg.id and (msg.id if isinstance(msg.id, str) else msg.id[0]) in pairs:
            value = pairs[msg.id if isinstance(msg.id, str) else msg.id[0]]
            msg.string = tuple(value) if isinstance(msg.id, tuple) else value
            msg.flags.discard("fuzzy")
            done += 1
    with path.open("wb") as f:
        write_po(f, cat, width=100, ignore_obsolete=True)
    print(f"{module}: {done} translations set")


def absorb(module: str, other_path: str):
    """Add translations from another .po (e.g. the other side of a merge) that this one lacks."""
    path = po_path(module, "zh_Hans_CN")
    cat = load(path, "zh_Hans_CN")
    with open(other_path, "rb") as f:
        other = read_po(f, locale="zh_Hans_CN")
    added = 0
    for msg in other:
        if not msg.id or not msg.string:
            continue
        mine = cat.get(msg.id, context=msg.context)
        if mine is None:
            cat.add(msg.id, msg.string, msg.locations, context=msg.context)
            added += 1
        elif not mine.string:
            mine.string = msg.string
            added += 1
    with path.open("wb") as f:
        write_po(f, cat, width=100, ignore_obsolete=True)
    print(f"{module}: {added} translations absorbed")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "update":
        update()
    elif cmd == "compile":
        compile_all()
    elif cmd == "fill":
        fill(sys.argv[2], sys.argv[3])
    elif cmd == "absorb":
        absorb(sys.argv[2], sys.argv[3])
    elif cmd == "check":
        gaps = missing() + [f"clash {c}" for c in clashes()]
        for g in gaps:
            print(g)
        sys.exit(1 if gaps else 0)
    else:
        print(__doc__)
        sys.exit(2)
