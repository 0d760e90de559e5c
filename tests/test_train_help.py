"""``--help`` of the training commands: ``distill.train`` prints its own program name, text and
``--method`` (not ``agents.train``'s ``--agent``), and every flag of the README's
``distill.train`` commands is in the help of that command's method."""

import re
from pathlib import Path

import pytest

import distill.train
from agents import train as agents_train
from distill.options import METHODS

README = (Path(__file__).parents[1] / "README.md").read_text().replace("\\\n", " ")
README_COMMANDS = [
    argv
    for line in re.findall(r"-m distill\.train\b(.*)", README)
    if (argv := line.split("#")[0].split("`")[0].split())
]
"""the arguments of each ``distill.train`` command with arguments in the README (comments cut)"""


def help_text(main, argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_distill_help_is_its_own(capsys):
    text = help_text(distill.train.main, [], capsys)
    assert text.startswith("usage: python -m distill.train ")
    assert distill.train.__doc__.splitlines()[0] in text
    assert agents_train.__doc__.splitlines()[0] not in text
    assert f"--method {{{','.join(METHODS)}}}" in text and "(default: drl-rec)" in text
    assert "--agent" not in text


def test_agents_help_keeps_agent(capsys):
    text = help_text(agents_train.main, [], capsys)
    assert text.startswith("usage: python -m agents.train ")
    assert "--agent {" in text and "(default: teacher)" in text and "--method " not in text


def test_the_readme_has_distill_commands():
    assert len(README_COMMANDS) >= 4 and sum("--method" in argv for argv in README_COMMANDS) >= 3


@pytest.mark.parametrize("argv", README_COMMANDS, ids=" ".join)
def test_readme_flags_are_in_the_help(argv, capsys):
    method = argv[argv.index("--method") + 1] if "--method" in argv else "drl-rec"
    text = help_text(distill.train.main, ["--method", method], capsys)
    for flag in (arg for arg in argv if arg.startswith("--")):
        assert re.search(rf"{flag}\b", text), f"{flag} not in the help of --method {method}"


@pytest.mark.parametrize("method", ["kd", "drl-rec"])
def test_method_picks_the_agent(method):
    config, _ = agents_train.parse_args(["--method", method], distill.train.COMMAND)
    assert config.agent == method
