"""Every CLI command has --help with an example and is documented in the README."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from bot.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent


def commands(parser=None, prefix=()):
    parser = parser or build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from commands(sub, (*prefix, name))


def test_every_command_has_an_example_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    leaves = [(path, sub) for path, sub in commands() if not any(isinstance(a, argparse._SubParsersAction) for a in sub._actions)]
    assert len(leaves) >= 6
    for path, sub in leaves:
        assert "Example:" in (sub.description or ""), path
        assert "geobrief " + " ".join(path) in readme, f"`geobrief {' '.join(path)}` is not in the README"


def test_help_runs_as_a_program():
    out = subprocess.run([sys.executable, "-m", "bot.cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and "geobrief" in out.stdout


def test_domain_errors_are_one_line(tmp_path, capsys):
    code = main(["--config", str(tmp_path / "missing.toml"), "models", "list"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("geobrief: ") and err.count("\n") == 1


def test_feeds_commands_add_filter_list_and_refuse(tmp_path, shared_data, capsys):
    config = tmp_path / "config.toml"
    config.write_text('db_path = "g.db"\n[feeds]\nsources = []\n')
    run = lambda *argv: main(["--config", str(config), *argv])  # noqa: E731
    guardian = shared_data / "feeds/news/rss-parser/guardian.rss"

    assert run("feeds", "add", str(guardian), "--title", "Guardian") == 0
    assert capsys.readouterr().out.startswith("added: #1 Guardian (")
    assert run("feeds", "filter", "1", "--exclude", "football, /celebrit(y|ies)/", "--min-relevance", "0.2") == 0
    assert capsys.readouterr().out == "#1 Guardian: exclude: football, /celebrit(y|ies)/ · relevance ≥ 0.2\n"
    assert run("feeds", "filter", "1", "--include", "/(a)\\1/") == 2
    err = capsys.readouterr().err
    assert err.startswith("geobrief: ") and "backreferences" in err and err.count("\n") == 1
    assert run("feeds", "filter", "7") == 2 and "no feed with id 7" in capsys.readouterr().err

    assert run("feeds", "list") == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].split()[:2] == ["1", "new"] and listing[2].strip() == "exclude: football, /celebrit(y|ies)/ · relevance ≥ 0.2"
    assert run("feeds", "filter", "1", "--clear") == 0
    assert capsys.readouterr().out.endswith(": relevance ≥ 0.3 (global)\n")
