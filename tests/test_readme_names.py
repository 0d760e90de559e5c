"""Every module the README names exists: its ``python -m X`` commands and the dotted names of
this project's packages (``rec_env.*``, ``agents.*``, ``distill.*``, ``benchmarks.*``), where
``module.attribute`` must resolve to an attribute. A renamed module fails here."""

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

README = (Path(__file__).parents[1] / "README.md").read_text().replace("\\\n", " ")
_NAME = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?!\w|\.[\w<])"
"""a dotted name, whole: not the start of a longer one nor of a placeholder (``benchmarks.<x>``)"""
_COMMAND = rf"\b(?:python3?|torchrun)\b[^\n`|]*?\s-m\s+({_NAME})"
COMMANDS = sorted(set(re.findall(_COMMAND, README)))
"""modules run by a ``python -m`` (or ``torchrun ... -m``) command, continued lines joined"""
_PROJECT_NAME = rf"(?<![\w./-])(?:rec_env|agents|distill|benchmarks)\.{_NAME}"
NAMES = sorted(set(re.findall(_PROJECT_NAME, README)))
"""dotted names in the project's packages, anywhere in the text"""


def resolve(name: str) -> object:
    """The module ``name``, or the attribute that the rest of ``name`` names in its longest
    importable prefix.

    :raises ImportError: a module in the chain fails to import (not merely missing).
    :raises AttributeError: the rest is no attribute of that module (a moved or renamed one).
    """
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            found = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:  # the module exists; one of its imports is missing
                raise
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(f"no module in {name!r}", name=parts[0])


def test_the_readme_names_modules_and_commands():
    assert {"agents.train", "distill.train", "rec_env.data"} <= set(COMMANDS)
    assert {"agents.training.online", "agents.data.replay", "rec_env.Scenario"} <= set(NAMES)


@pytest.mark.parametrize("name", COMMANDS)
def test_python_m_commands_name_runnable_modules(name):
    module = importlib.import_module(name)
    if hasattr(module, "__path__"):  # a package runs its __main__
        assert importlib.util.find_spec(f"{name}.__main__") is not None, f"{name} has no __main__"


@pytest.mark.parametrize("name", NAMES)
def test_dotted_names_resolve(name):
    resolve(name)


@pytest.mark.parametrize(
    "name, error",
    [
        ("agents.online", AttributeError),  # moved to agents.training.online
        ("agents.replay", AttributeError),  # moved to agents.data.replay
        ("agents.training.online.no_such_name", AttributeError),
        ("no_such_package.module", ModuleNotFoundError),
    ],
)
def test_a_moved_or_missing_name_fails(name, error):
    with pytest.raises(error):
        resolve(name)
