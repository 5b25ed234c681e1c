"""The commands README.md, config/README.md, CONTRIBUTING.md and docs/ show work as written.

Every `ohevidence ...` command of a shell block parses with the real parser; every one written
inline names a real subcommand and only its flags; the README's live run works from
`.venv/bin/snakemake` with the venv's bin directory off PATH, and stops at once, naming the host,
when the host does not resolve (hosts under .invalid never do, RFC 6761: no network is needed).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ohevidence.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
# The key reference and the README show commands (checked to find some); CONTRIBUTING and docs/ may.
MAIN_DOCS = ("README.md", "config/README.md")
DOCS = (*MAIN_DOCS, "CONTRIBUTING.md", *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("docs/**/*.md")))
BIN = Path(sys.executable).parent
IGNORE = shutil.ignore_patterns(".venv", ".git", "results", ".snakemake", "logs", "__pycache__", "*.egg-info")


def shell_commands(doc: str) -> list[str]:
    """Commands of the ```sh blocks of ``doc``: continuation lines joined, comments dropped."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```(?:sh|bash|console)\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def ohevidence_args(command: str) -> list[str] | None:
    """The arguments of an `ohevidence` (or `.venv/bin/ohevidence`) command line; None for others."""
    words = shlex.split(command)
    return words[1:] if words and words[0] in ("ohevidence", ".venv/bin/ohevidence") else None


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_the_docs_show_ohevidence_commands() -> None:
    commands = [c for doc in DOCS for c in shell_commands(doc) if ohevidence_args(c) is not None]
    assert len(commands) >= 5  # search pubmed/nihr/file/merge, validate, init
    assert any(ohevidence_args(c)[:1] == ["init"] for c in commands)  # type: ignore[index]


@pytest.mark.parametrize(
    "command",
    [c for doc in DOCS for c in shell_commands(doc) if ohevidence_args(c) is not None],
)
def test_every_ohevidence_command_in_a_shell_block_parses(command: str) -> None:
    args = ohevidence_args(command)
    assert args is not None
    parser = build_parser(args[0])
    parser.exit = lambda status=0, message=None: pytest.fail(f"{command!r}: {message}")  # type: ignore[method-assign]
    parsed = parser.parse_args(args)
    assert callable(parsed.func)


def inline_commands(doc: str) -> list[str]:
    text = (ROOT / doc).read_text(encoding="utf-8")
    return re.findall(r"`(?:\.venv/bin/)?ohevidence ([a-z][^`]*)`", text)


@pytest.mark.parametrize("doc", DOCS)
def test_every_inline_ohevidence_command_names_real_subcommands_and_flags(doc: str) -> None:
    problems = []
    for words in map(str.split, inline_commands(doc)):
        parser = build_parser(words[0])
        rest = list(words)
        while (choices := subparsers(parser)) and rest and rest[0] in choices:
            parser = choices[rest.pop(0)]
        if choices and rest and re.fullmatch(r"[a-z][a-z-]*", rest[0]):
            problems.append(f"{' '.join(words)}: no subcommand {rest[0]!r}")
        known = {flag for action in parser._actions for flag in action.option_strings}
        for word in rest:
            flag = word.strip("[]").split("=")[0]
            if flag.startswith("--") and flag not in known:
                problems.append(f"{' '.join(words)}: unknown flag {flag}")
    assert not problems, problems
    assert inline_commands(doc) or doc not in MAIN_DOCS


def test_readme_live_run_needs_no_venv_on_path_and_stops_at_once_offline(tmp_path: Path) -> None:
    """`.venv/bin/snakemake --cores 2 --config mode=live`, exactly as the README shows it."""
    documented = [c for c in shell_commands("README.md") if "--config mode=live" in c and "snakemake" in c]
    assert documented == [".venv/bin/snakemake --cores 2 --config mode=live"]
    project = tmp_path / "review"
    shutil.copytree(ROOT, project, ignore=IGNORE)
    config = yaml.safe_load((project / "config/config.yaml").read_text())
    # the project's live searches, sent to hosts that cannot resolve (instead of NCBI and Crossref)
    config["pubmed"]["eutils_url"] = "http://eutils.ohevidence-test.invalid/entrez/eutils/"
    config["live"]["crossref_url"] = "http://api.ohevidence-test.invalid"
    (project / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    # a user who has not activated any venv: no folder holding an `ohevidence` command is on PATH
    path = os.pathsep.join(
        p
        for p in os.environ.get("PATH", "").split(os.pathsep)
        if p and Path(p) != BIN and shutil.which("ohevidence", path=p) is None
    )
    assert shutil.which("ohevidence", path=path) is None
    env = {**os.environ, "PATH": path, "OHEVIDENCE_EMAIL": "reviewer@example.org"}
    args = shlex.split(documented[0])
    result = subprocess.run(
        [str(BIN / "snakemake"), *args[1:]], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "command not found" not in output
    # the first search to fail stops the run (the other may not have started)
    hosts = ("eutils.ohevidence-test.invalid", "api.ohevidence-test.invalid")
    assert any(f"cannot resolve the host '{host}'" in output for host in hosts), output[-3000:]
    assert "`mode: snapshot` (the default) and imported files work offline" in output
    # "at once" is counted (one request, no backoff) in test_live_search.py, not timed here (issue 26)


def test_live_mode_resolves_in_a_dry_run_without_the_venv_on_path() -> None:
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != BIN)
    result = subprocess.run(
        [str(BIN / "snakemake"), "--cores", "2", "--config", "mode=live", "--dry-run", "--forceall"],
        cwd=ROOT,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert {"search_pubmed", "search_nihr"} <= set(result.stdout.split())
