"""The folders are layers (README « Where things are »): domain/ is pure, and views/ read the
request, call services and render, without writing to the database themselves. Read from the
source with `ast`, so a forbidden import inside a function counts as well."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# domain/: no web framework, no database, no models, nothing of the layers above it.
IMPURE = {
    "flask",
    "flask_login",
    "flask_wtf",
    "werkzeug",
    "wtforms",
    "peewee",
    "playhouse",
    "models",
    "services",
    "jobs",
    "mail",
    "forms",
    "web",
    "views",
    "app",
    "cli",
}

# Calls that write, whatever they are called on (a model class, an instance, a query).
WRITES = {
    "save",
    "create",
    "insert",
    "insert_many",
    "insert_from",
    "replace_many",
    "delete_instance",
    "delete_by_id",
    "get_or_create",
    "bulk_create",
    "bulk_update",
    "atomic",
    "write_transaction",
}
# Writes only on a model class (Lead.update(...), models.Lead.delete()): dict.update and
# str.replace are not.
MODEL_WRITES = {"update", "delete", "replace"}

# The writes views/ do today, (file, function, call): to move to services (issue 13 §1).
# None may be added; remove an entry when its write moves to its service.
VIEW_WRITES_TO_MOVE = {
    ("views/espace/account.py", "compte_notifications", "update"),
    ("views/espace/account.py", "compte_notifications", "write_transaction"),
    ("views/espace/settings.py", "reglages_profil", "save"),
    ("views/espace/settings.py", "reglages_profil", "write_transaction"),
    ("views/espace/settings.py", "reglages_programme", "save"),
    ("views/espace/settings.py", "reglages_programme", "write_transaction"),
    ("views/espace/inbox.py", "export_as", "create"),
    ("views/espace/inbox.py", "export_as", "write_transaction"),
}


def python_files(folder):
    return sorted((ROOT / folder).rglob("*.py"))


def parse(path):
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_roots(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside domain/ itself
                continue
            yield node.lineno, node.module.split(".")[0]


def test_domain_imports_nothing_impure():
    files = python_files("domain")
    assert {p.stem for p in files} >= {"vocabulary", "journeys", "lifecycle", "matcher"}
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in files
        for line, name in imported_roots(parse(path))
        if name in IMPURE
    ]
    assert found == []


def is_model(node):
    """Lead, models.Lead: a capitalised name, the way models are named and imported."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id == "models" and node.attr[:1].isupper()
    return isinstance(node, ast.Name) and node.id[:1].isupper()


def writes(tree):
    """(function, call) of each write in a module, by the function it is written in."""

    def visit(node, function):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if isinstance(node, ast.Call):
            target = node.func
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            on_model = isinstance(target, ast.Attribute) and is_model(target.value)
            if name in WRITES or (name in MODEL_WRITES and on_model):
                yield function, name
        for child in ast.iter_child_nodes(node):
            yield from visit(child, function)

    yield from visit(tree, "<module>")


def test_views_do_not_write_to_the_database():
    found = {
        (str(path.relative_to(ROOT)), function, call)
        for path in python_files("views")
        for function, call in writes(parse(path))
    }
    assert found - VIEW_WRITES_TO_MOVE == set(), "views/ writes: call a service instead"


def test_the_write_detector_sees_writes():
    code = "def f():\n    with models.write_transaction():\n        Lead.update(x=1).execute()\n"
    code += "    models.Note.create(text='')\n    d.update(x=1)\n    s.replace('a', 'b')\n"
    assert set(writes(ast.parse(code))) == {
        ("f", "write_transaction"),
        ("f", "update"),
        ("f", "create"),
    }
