"""The lazy command group: `simsource --help` imports no command module and nothing heavy; every
registered command loads, and its summary in the group's help is its own."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys

import click
from click.testing import CliRunner

import simsource.cli
from simsource.cli import COMMANDS, main

HEAVY = ("pandas", "pyarrow", "matplotlib", "scipy", "numpy", "simpy", "pydantic")


def _modules_after(code: str) -> list[str]:
    probe = ("\nimport sys\nprint(sorted(m for m in sys.modules if m.startswith('simsource.cli.')"
             f" or m.split('.')[0] in {HEAVY!r}))")
    out = subprocess.run([sys.executable, "-c", code + probe], capture_output=True, text=True,
                         check=True)
    names: list[str] = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    return names


def test_group_help_imports_no_command_module_and_nothing_heavy() -> None:
    loaded = _modules_after("from click.testing import CliRunner; from simsource.cli import "
                            "main; r = CliRunner().invoke(main, ['--help']); "
                            "assert r.exit_code == 0, r.output")
    assert loaded == []


def test_command_help_loads_neither_pandas_nor_pyarrow() -> None:
    code = ("from click.testing import CliRunner; from simsource.cli import main, COMMANDS\n"
            "for name in COMMANDS:\n"
            "    r = CliRunner().invoke(main, [name, '--help'])\n"
            "    assert r.exit_code == 0, (name, r.output)\n")
    loaded = _modules_after(code)
    assert not [m for m in loaded if m.split(".")[0] in ("pandas", "pyarrow", "matplotlib")]


def test_group_help_lists_every_command_with_its_own_summary() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.split("Commands:")[1].splitlines()
              if line.strip()]
    assert listed == list(COMMANDS)
    ctx = click.Context(main)
    assert main.list_commands(ctx) == list(COMMANDS)  # completion and dispatch see the same
    for name, lazy in COMMANDS.items():
        cmd = main.get_command(ctx, name)
        assert cmd is not None
        assert cmd.name == name
        first = " ".join((cmd.help or "").split("\n\n")[0].split())
        assert first == lazy.summary, name


def test_every_command_in_the_cli_modules_is_registered() -> None:
    found = set()
    for info in pkgutil.iter_modules(simsource.cli.__path__):
        mod = importlib.import_module(f"simsource.cli.{info.name}")
        found |= {f"{mod.__name__}:{attr}" for attr, v in vars(mod).items()
                  if isinstance(v, click.Command)}
    assert found == {lazy.target for lazy in COMMANDS.values()}


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.output


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    import simsource

    assert simsource.__version__ == version("simsource")
    result = CliRunner().invoke(main, ["--version"])
    assert result.output == f"simsource, version {version('simsource')}\n"
