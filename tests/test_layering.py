"""Which app may import which: ``partners`` knows nothing of ``agreements`` (agreements name
their partners, never the other way round)."""

import ast
from pathlib import Path

import pytest

import partners

PARTNERS = Path(partners.__file__).resolve().parent


def _imported_modules(source: str, package: list[str]) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, a module of ``package``;
    relative imports are resolved, and ``from x import y`` also counts as ``x.y``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _is_agreements(module: str) -> bool:
    return module == "agreements" or module.startswith("agreements.")


def test_partners_never_imports_agreements():
    files = sorted(PARTNERS.rglob("*.py"))
    assert len(files) > 10  # the walk really found the app
    offending = []
    for path in files:
        package = ["partners", *path.relative_to(PARTNERS).parent.parts]
        for line, module in _imported_modules(path.read_text(encoding="utf-8"), package):
            if _is_agreements(module):
                offending.append(f"{path.relative_to(PARTNERS.parent)}:{line}: {module}")
    assert not offending, "partners imports agreements:\n" + "\n".join(offending)


@pytest.mark.parametrize(
    "source, caught",
    [
        ("import agreements\n", True),
        ("import agreements.models as m\n", True),
        ("from agreements.selectors import agreements_for\n", True),
        ("from agreements import views\n", True),
        ("def f():\n    from agreements.models import Provision\n", True),
        ("from ..models import Nation\n", False),  # partners.models
        ("from config.pages import list_url\n", False),
        ("import agreements_extra\n", False),
    ],
)
def test_the_check_reads_every_way_of_writing_an_import(source, caught):
    modules = [module for _, module in _imported_modules(source, ["partners", "api"])]
    assert any(_is_agreements(m) for m in modules) is caught, modules
