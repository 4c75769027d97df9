"""Build static/vendor/bootstrap/bootstrap.subset.css: Bootstrap's stylesheet with only the rules
whose classes appear somewhere in the app (templates, JavaScript, Python), so a first visit loads
~a quarter of the 232 KB. Run after using a Bootstrap class the app did not use before:

    python tools/build_css.py           write the subset
    python tools/build_css.py --check   exit 1 if the committed subset is out of date

A class is "used" when its name appears as a word in any source file; a name built from a prefix
in a template or in Python (`alert-{{ category }}`, `'bg-' ~ tone`, f"text-bg-{tone}") keeps every
class starting with that prefix. The classes Bootstrap's own JavaScript switches (show, collapsing…)
are kept always.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tinycss2

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "static" / "vendor" / "bootstrap" / "bootstrap.min.css"
TARGET = ROOT / "static" / "vendor" / "bootstrap" / "bootstrap.subset.css"
SCANNED = [("templates", "*.html"), ("static/js", "*.js"), ("core", "*.py"), ("catalog", "*.py"),
           ("marketplace", "*.py"), ("evaluation", "*.py"), ("seeds", "*.py")]
# Switched by static/js/menus.js (Bootstrap's collapse and dropdown classes) at run time, never written in a template.
ALWAYS = {"show", "showing", "hiding", "collapse", "collapsing", "collapsed", "fade", "active", "disabled",
          "dropdown-menu", "dropdown-menu-end", "dropdown-menu-start", "dropup", "dropend", "dropstart",
          "was-validated", "is-invalid", "is-valid", "navbar-collapse", "navbar-toggler", "visually-hidden",
          "visually-hidden-focusable", "focus-ring"}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
PREFIX = re.compile(r"([a-z][a-z0-9]*(?:-[a-z0-9]+)*-)(?:\{|['\"]\s*[~+])")
CLASS = re.compile(r"\.((?:\\.|[A-Za-z0-9_-])+)")
NOT = re.compile(r":not\((?:[^()]|\([^()]*\))*\)")


def used_names() -> tuple[set[str], set[str]]:
    words, prefixes = set(ALWAYS), set()
    for folder, pattern in SCANNED:
        for path in sorted((ROOT / folder).rglob(pattern)):
            text = path.read_text(encoding="utf-8", errors="replace")
            words.update(WORD.findall(text))
            prefixes.update(PREFIX.findall(text))
    return words, prefixes


def keeps(selector: str, words: set[str], prefixes: set[str]) -> bool:
    if "data-bs-theme=dark" in selector:
        return False
    classes = [c.replace("\\", "") for c in CLASS.findall(NOT.sub("", selector))]
    return all(c in words or any(c.startswith(p) for p in prefixes) for c in classes)


def purge(rules, words, prefixes) -> list[str]:
    out = []
    for rule in rules:
        if rule.type == "qualified-rule":
            selectors = [s.strip() for s in tinycss2.serialize(rule.prelude).split(",")]
            kept = [s for s in selectors if keeps(s, words, prefixes)]
            if kept:
                out.append(",".join(kept) + "{" + tinycss2.serialize(rule.content).strip() + "}")
        elif rule.type == "at-rule":
            name = rule.lower_at_keyword
            prelude = tinycss2.serialize(rule.prelude).strip()
            if name in ("media", "supports", "layer", "container") and rule.content is not None:
                inner = purge(tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True),
                              words, prefixes)
                if inner:
                    out.append(f"@{name} {prelude}{{" + "".join(inner) + "}")
            elif name == "charset":
                continue  # written first by build()
            elif rule.content is None:
                out.append(f"@{name} {prelude};")
            else:
                out.append(f"@{name} {prelude}{{" + tinycss2.serialize(rule.content).strip() + "}")
    return out


def build() -> str:
    words, prefixes = used_names()
    rules = tinycss2.parse_stylesheet(SOURCE.read_text(encoding="utf-8"), skip_comments=True, skip_whitespace=True)
    head = ('@charset "UTF-8";\n/*! Bootstrap v5.3.8 (https://getbootstrap.com/), MIT licence (LICENSE beside'
            " this file); only the rules this app uses, built by tools/build_css.py from bootstrap.min.css. */\n")
    return head + "\n".join(purge(rules, words, prefixes)) + "\n"


def main(argv: list[str]) -> int:
    css = build()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != css:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run python tools/build_css.py")
            return 1
        return 0
    TARGET.write_text(css, encoding="utf-8")
    print(f"{TARGET.relative_to(ROOT)}: {len(css.encode()):,} bytes (from {SOURCE.stat().st_size:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
