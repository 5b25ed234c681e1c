"""Snakemake's lock files left behind by a killed run: find them, and remove them when stale.

Snakemake locks a project folder while it runs (``.snakemake/locks/``) and removes the locks when
it exits, Ctrl-C included. A SIGKILL (the OOM killer, ``kill -9``) or a power loss leaves them, and
every later run stops with "Directory cannot be locked". ``make run`` therefore calls
``ohevidence unlock-stale`` first: when no Snakemake process is running in the folder, the locks
are stale and are removed (each named in the log); when one is, they are kept and the new run
stops on them as before, so two runs never write the same files.

Only processes on this machine are visible: with the project on a filesystem shared by several
hosts, a run on another host is not seen (run there, or remove stale locks by hand with
``snakemake --unlock``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import psutil

log = logging.getLogger("ohevidence.locks")

LOCK_DIR = Path(".snakemake/locks")
DIRECTORY_OPTIONS = ("--directory", "-d")


def _workdir(cmdline: list[str], cwd: Path) -> Path:
    """The folder a snakemake command line runs in: its --directory, else its working directory."""
    for option in DIRECTORY_OPTIONS:
        if option in cmdline[:-1]:
            return (cwd / cmdline[cmdline.index(option) + 1]).resolve()
        prefix = option + "="
        for part in cmdline:
            if part.startswith(prefix):
                return (cwd / part[len(prefix) :]).resolve()
    return cwd.resolve()


def running_snakemake(project: Path) -> list[psutil.Process]:
    """Snakemake processes (other than this one and its parents) running in ``project``."""
    project = project.resolve()
    own = {os.getpid(), *(parent.pid for parent in psutil.Process().parents())}
    found = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        cmdline, cwd = process.info["cmdline"] or [], process.info["cwd"]
        if process.pid in own or not cwd:
            continue  # ours, or not ours to inspect (another user's, or gone)
        is_snakemake = any(Path(part).name == "snakemake" for part in cmdline)
        if is_snakemake and _workdir(cmdline, Path(cwd)) == project:
            found.append(process)
    return found


def remove_stale_locks(project: Path) -> list[Path]:
    """Remove ``project``'s Snakemake locks unless a Snakemake process runs there; the removed files."""
    locks = sorted((project / LOCK_DIR).glob("*.lock"))
    if not locks:
        return []
    running = running_snakemake(project)
    if running:
        log.info(
            "%s is locked by a running Snakemake (pid %s): locks kept",
            project,
            ", ".join(str(p.pid) for p in running),
        )
        return []
    for lock in locks:
        lock.unlink(missing_ok=True)
        log.warning("removed stale Snakemake lock %s (left by a killed run; no Snakemake runs here)", lock)
    return locks
