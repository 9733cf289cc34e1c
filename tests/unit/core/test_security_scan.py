"""The installed ``workflow`` package never runs a model's code: an ``ast`` scan for
``trust_remote_code`` set to anything but a false constant (as a keyword, or a dict key,
which covers ``**{...}``), ``torch.load`` without ``weights_only=True`` and unpickling
(``pickle.load`` / ``loads`` / ``Unpickler``), proven on planted examples."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import workflow

PACKAGE = Path(workflow.__file__).resolve().parent
UNPICKLE = {"pickle.load", "pickle.loads", "pickle.Unpickler"}


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> full dotted name, from the module's imports (``import torch as t``,
    ``from pickle import load``)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _dotted(node: ast.expr, aliases: dict[str, str]) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([aliases.get(node.id, node.id), *reversed(parts)])


def _not_false(value: ast.expr) -> bool:
    """True unless the value is a constant that is false (a variable may be True)."""
    return not (isinstance(value, ast.Constant) and not value.value)


def unsafe_calls(source: str, filename: str = "<text>") -> list[str]:
    """``file:line: what`` for each unsafe construct in one module's source."""
    tree = ast.parse(source, filename)
    aliases = _aliases(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "trust_remote_code" and _not_false(value):
                    found.append(f"{filename}:{node.lineno}: trust_remote_code in a dict")
        if not isinstance(node, ast.Call):
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if "trust_remote_code" in keywords and _not_false(keywords["trust_remote_code"]):
            found.append(f"{filename}:{node.lineno}: trust_remote_code")
        name = _dotted(node.func, aliases)
        weights_only = keywords.get("weights_only")
        if name == "torch.load" and not (isinstance(weights_only, ast.Constant) and weights_only.value is True):
            found.append(f"{filename}:{node.lineno}: torch.load without weights_only=True")
        if name in UNPICKLE:
            found.append(f"{filename}:{node.lineno}: {name}")
    return found


def scan_package(folder: Path) -> list[str]:
    return [hit for path in sorted(folder.rglob("*.py")) for hit in unsafe_calls(path.read_text(encoding="utf-8"), str(path))]


def test_the_package_never_trusts_remote_code_nor_unpickles():
    assert len(list(PACKAGE.rglob("*.py"))) > 20  # the real package, not an empty folder
    assert scan_package(PACKAGE) == []


PLANTED = {
    "keyword": ("from transformers import AutoModel\nAutoModel.from_pretrained(x, trust_remote_code=True)\n", "trust_remote_code"),
    "truthy constant": ("AutoTokenizer.from_pretrained(x, trust_remote_code=1)\n", "trust_remote_code"),
    "variable": ("def load(x, trusted):\n    return pipeline(x, trust_remote_code=trusted)\n", "trust_remote_code"),
    "double star": ("AutoConfig.from_pretrained(x, **{'trust_remote_code': True})\n", "trust_remote_code in a dict"),
    "dict() kwargs": ("kw = dict(trust_remote_code=True)\nAutoModel.from_pretrained(x, **kw)\n", "trust_remote_code"),
    "torch.load": ("import torch\nstate = torch.load(path)\n", "torch.load without weights_only=True"),
    "weights_only=False": ("import torch\nstate = torch.load(path, weights_only=False)\n", "torch.load without weights_only=True"),
    "from torch import load": ("from torch import load as tload\nstate = tload(path)\n", "torch.load without weights_only=True"),
    "pickle.load": ("import pickle\nwith open(p, 'rb') as f:\n    obj = pickle.load(f)\n", "pickle.load"),
    "aliased pickle.loads": ("import pickle as pk\nobj = pk.loads(data)\n", "pickle.loads"),
    "from pickle import load": ("from pickle import load\nobj = load(f)\n", "pickle.load"),
}


@pytest.mark.parametrize("name", PLANTED)
def test_scanner_finds_a_planted_example(tmp_path, name):
    source, what = PLANTED[name]
    package = tmp_path / "planted"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text('"""A clean module."""\n', encoding="utf-8")
    (package / "sub" / "models.py").write_text(source, encoding="utf-8")
    hits = scan_package(package)
    assert len(hits) == 1 and hits[0].startswith(str(package / "sub" / "models.py") + ":"), hits
    assert hits[0].split(": ", 1)[1] == what


def test_scanner_passes_clean_code(tmp_path):
    (tmp_path / "clean.py").write_text(
        '"""Mentions trust_remote_code=True and torch.load( only in text."""\n'
        "import json\nimport torch\nfrom transformers import AutoModel\n"
        "AutoModel.from_pretrained(x)\n"
        "AutoModel.from_pretrained(x, trust_remote_code=False)\n"
        "AutoModel.from_pretrained(x, **{'revision': 'main', 'trust_remote_code': None})\n"
        "state = torch.load(path, weights_only=True, map_location='cpu')\n"
        "json.load(f)\n"
        "note = 'pickle.load(f) and trust_remote_code=True in a string'\n",
        encoding="utf-8",
    )
    assert scan_package(tmp_path) == []
