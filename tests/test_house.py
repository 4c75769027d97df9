"""The plan of the house, checked on the source tree: imports flow one way
(core ← catalog ← marketplace ← evaluation ← seeds), in Python and in templates; no package
keeps a plug-in registry at module level; every domain subpackage has the same rooms.

DESIGN.md, "Modules and their direction". Each check reports every offender with its place,
so one run shows all that is left to move.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"

# Lower packages first: a package may import only those before it.
LAYERS = ("core", "catalog", "marketplace", "evaluation", "seeds")
DOMAINS = LAYERS[:4]
# Nothing in the app may import these: they import the app, not the other way round.
OUTSIDE = ("tools", "tests")
RANK = {name: i for i, name in enumerate(LAYERS)} | {name: len(LAYERS) for name in OUTSIDE}


def _python_files(*packages):
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                yield path


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def _package_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0]


def _imported_modules(path: Path, tree: ast.Module | None = None):
    """(node, dotted module name) for every import in the file, at any depth (inside functions
    too); relative imports resolved against the file's own package."""
    package = path.relative_to(ROOT).parts[:-1]
    for node in ast.walk(tree or _tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                yield node, ".".join([*base, *([node.module] if node.module else [])])
            else:
                yield node, node.module


# --- (a) imports -------------------------------------------------------------------------------

def _upward_imports():
    found = []
    for path in [*_python_files(*LAYERS), ROOT / "app.py"]:
        package = _package_of(path)
        # app.py assembles the packages: it may import every one of them, but not tools or tests.
        rank = RANK["seeds"] if package == "app.py" else RANK[package]
        for node, module in _imported_modules(path):
            top = module.split(".")[0]
            if top in RANK and RANK[top] > rank:
                found.append(f"{_where(path, node)}: {ast.unparse(node)}  ({package} imports {top})")
    return found


def test_no_package_imports_a_higher_one():
    offenders = _upward_imports()
    assert offenders == [], "imports against core ← catalog ← marketplace ← evaluation ← seeds:\n" + "\n".join(
        offenders)


def test_the_import_walk_sees_function_level_and_relative_imports():
    # The walk must not miss an import tucked inside a function or written relatively.
    tree = ast.parse("def f():\n    from evaluation.review import operations\n\nfrom ..awards import models\n")
    path = ROOT / "marketplace" / "bids" / "probe.py"
    assert sorted(m for _n, m in _imported_modules(path, tree)) == ["evaluation.review", "marketplace.awards"]


# --- (b) links in templates and url_for in Python -------------------------------------------------

URL_FOR = re.compile(r"""url_for\(\s*['"]([A-Za-z_][\w.]*)['"]""")
# Templates shared by every page belong to core.
CORE_SHARED = ("base.html", "macros.html", "errors", "pdf")


def _template_package(path: Path) -> str | None:
    first = path.relative_to(TEMPLATES).parts[0]
    if first in CORE_SHARED:
        return "core"
    return first if first in RANK else None


def _endpoint_packages(app) -> dict[str, str]:
    """Endpoint → the top package of the module its view function is defined in."""
    out = {}
    for rule in app.url_map.iter_rules():
        top = app.view_functions[rule.endpoint].__module__.split(".")[0]
        if top in RANK:
            out[rule.endpoint] = top
    return out


def _python_url_fors(path: Path):
    for node in ast.walk(_tree(path)):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        first = node.args[0]
        if name == "url_for" and isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield node, first.value


def _upward_links(app):
    owner = _endpoint_packages(app)
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        package = _template_package(path)
        if package is None:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for endpoint in URL_FOR.findall(line):
                if endpoint in owner and RANK[owner[endpoint]] > RANK[package]:
                    found.append(f"{path.relative_to(ROOT)}:{n}: url_for('{endpoint}')  "
                                 f"({package} template links to {owner[endpoint]})")
    for path in _python_files(*DOMAINS):
        package = _package_of(path)
        for node, endpoint in _python_url_fors(path):
            if endpoint in owner and RANK[owner[endpoint]] > RANK[package]:
                found.append(f"{_where(path, node)}: url_for('{endpoint}')  ({package} links to {owner[endpoint]})")
    return found


def test_the_endpoint_map_knows_every_package(app):
    # The link check below is only as good as this map: each domain registers pages.
    assert set(_endpoint_packages(app).values()) >= set(DOMAINS)


def test_lower_packages_link_to_no_page_of_a_higher_one(app):
    offenders = _upward_links(app)
    assert offenders == [], "links against the direction (a slot filled by a signal belongs here):\n" + "\n".join(
        offenders)


# --- (c) module-level registries -----------------------------------------------------------------

EMPTY_CALLS = {"list", "dict", "set", "defaultdict", "OrderedDict", "deque"}


def _is_empty_container(value: ast.AST | None) -> bool:
    if isinstance(value, ast.List | ast.Set):
        return not value.elts
    if isinstance(value, ast.Dict):
        return not value.keys
    if isinstance(value, ast.Call):
        name = value.func.id if isinstance(value.func, ast.Name) else getattr(value.func, "attr", None)
        # defaultdict(list) is empty whatever its factory; list(x)/dict(x) copy a filled table.
        return name in EMPTY_CALLS and (name == "defaultdict" or not (value.args or value.keywords))
    return False


def _module_level_statements(body):
    """The statements run at import, looking into if/try/with blocks but not functions or classes."""
    for stmt in body:
        yield stmt
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(stmt, field, None)
            if inner and not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                yield from _module_level_statements(inner)


def _module_registries():
    found = []
    for path in _python_files(*DOMAINS):
        for stmt in _module_level_statements(_tree(path).body):
            if isinstance(stmt, ast.Assign):
                targets, value = stmt.targets, stmt.value
            elif isinstance(stmt, ast.AnnAssign):
                targets, value = [stmt.target], stmt.value
            else:
                continue
            if _is_empty_container(value):
                names = ", ".join(ast.unparse(t) for t in targets)
                found.append(f"{_where(path, stmt)}: {names} = {ast.unparse(value)}")
    return found


def test_no_package_keeps_a_registry_at_module_level():
    # A module-level list or dict filled at app creation is shared by every app in the process:
    # what a package contributes is registered on the app in its init_app.
    offenders = _module_registries()
    assert offenders == [], "module-level registries (register on the app in init_app instead):\n" + "\n".join(
        offenders)


def test_the_registry_check_tells_tables_from_registries():
    def empty(src):
        return _is_empty_container(ast.parse(src).body[0].value)

    assert all(empty(s) for s in ("X = []", "X = {}", "X = set()", "X = dict()", "X = defaultdict(list)"))
    assert not any(empty(s) for s in ("X = ()", "X = frozenset()", "X = {'a': 1}", "X = [1]", "X = dict(a=1)"))


def test_no_package_loads_modules_by_name():
    # importlib turns an import into a string the direction checks cannot see.
    found = []
    for path in _python_files(*DOMAINS):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(m.split(".")[0] == "importlib" for m in modules):
                    found.append(f"{_where(path, node)}: {ast.unparse(node)}")
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "importlib":
                found.append(f"{_where(path, node)}: {ast.unparse(node)}")
    assert found == [], "\n".join(found)


# --- (d) rooms -----------------------------------------------------------------------------------

ROOMS = {"__init__.py", "models.py", "operations.py", "forms.py", "schemas.py", "views.py", "api.py",
         "signals.py", "cli.py", "documents.py"}

# Files beside the standard rooms, each with why it stands apart. Add a line here (with its
# reason) rather than a room of another name; remove it when the file goes.
EXTRA_ROOMS = {
    "core/site/api_docs.py": "the API documentation page, rendered from core.openapi on the server",
    "core/jobs/engine.py": "the task engine: the app's Celery app, periodic tasks and their commands",
    "core/spreadsheets/exports.py": "list pages downloaded as .xlsx/.csv with the page's own filters",
    "core/spreadsheets/files.py": "reading and writing .xlsx/.csv, shared by every import and export",
    "catalog/items/admin_views.py": "the officers' catalog pages, a blueprint apart from the public catalog",
    "catalog/items/display.py": "how revision snapshots' plain values are shown in templates",
    "catalog/items/pinyin.py": "pinyin search keys for Chinese names",
    "catalog/items/search.py": "the item filters shared by the public catalog, the officers' list and the API",
    "catalog/items/spreadsheet.py": "the catalog exported to and imported from a spreadsheet",
    "marketplace/awards/challenge_files.py": "files attached to a challenge, kept by the upload store",
    "marketplace/bids/sealing.py": "AES-GCM sealing of bids at rest, the key outside the database",
    "marketplace/opendata/ocds.py": "projects as Open Contracting Data Standard releases",
    "marketplace/sessions/photos.py": "session photos, checked and re-encoded by the upload store",
    "evaluation/coverage/map.py": "the district map of the 15-minute circle, drawn as SVG on the server",
    "evaluation/reporting/briefing.py": "the monthly briefing PDF",
    "evaluation/reporting/dashboard.py": "the officer's and admin's landing dashboards",
    "evaluation/reporting/figures.py": "the district's figures, one home for every reported number",
    "evaluation/reporting/provider_report.py": "the provider report PDF, produced by the job queue",
    "evaluation/review/bid_content.py": "a bid's unsealed plan as the experts read it",
    "evaluation/review/draw.py": "the reproducible panel draw and its record",
    "evaluation/assessment/draw.py": "the reproducible monthly sampling draw of assessment visits and its record",
    "evaluation/review/ranking.py": "the review's arithmetic on plain values, checked by hand and by properties",
    "evaluation/review/rules.py": "the review's numeric rules as admin-editable settings",
    "evaluation/review/scoring.py": "what a panel member does: qualification checks, scores, submission",
}


def _subpackages():
    for domain in DOMAINS:
        for child in sorted((ROOT / domain).iterdir()):
            if child.is_dir() and (child / "__init__.py").exists():
                yield child


def test_every_domain_subpackage_has_only_the_standard_rooms():
    strays = []
    for package in _subpackages():
        for entry in sorted(package.iterdir()):
            if entry.name == "__pycache__" or (entry.is_file() and entry.suffix != ".py"):
                continue
            where = entry.relative_to(ROOT).as_posix()
            if entry.is_dir():
                strays.append(f"{where}/: a package inside a room (split the domain one level only)")
            elif entry.name not in ROOMS and where not in EXTRA_ROOMS:
                strays.append(f"{where}: not a standard room (rename it, or list it in EXTRA_ROOMS with why)")
    assert strays == [], "\n".join(strays)


def test_the_allow_list_names_only_files_that_exist():
    gone = [name for name in EXTRA_ROOMS if not (ROOT / name).is_file()]
    assert gone == [], f"remove from EXTRA_ROOMS: {gone}"
