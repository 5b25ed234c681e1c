"""A stage's output files, each named on the command line (``--<name>-out FILE``).

The workflow's rules name every output (``--clusters-out {output.clusters}``), so the file
names live in the rules alone. By hand, ``--out DIR`` is a shorthand: every output not named
by its own option goes into ``DIR`` under its usual name (the names in ``results/``).

A stage declares its outputs as a frozen dataclass of paths, each field's metadata made
with :func:`output`; a field that holds one file per reviewer is a tuple, named from a pattern
with ``{reviewer}``.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

from ohevidence.errors import InputError

__all__ = ["StageOutputs", "output"]


def output(file_name: str, help: str, *, per_reviewer: bool = False) -> dict[str, Any]:
    """Metadata of a :class:`StageOutputs` field: its usual file name (``{reviewer}``: one per
    reviewer) and its help text. Use as ``name: Path = field(metadata=output(...))``."""
    return {"file": file_name, "help": help, "per_reviewer": per_reviewer}


class StageOutputs:
    """Base of a stage's outputs dataclass: build it from a folder or from the command line."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    @classmethod
    def in_folder(cls, folder: str | Path, *, reviewers: Sequence[str] = ()) -> Self:
        """Every output in ``folder`` under its usual name."""
        folder = Path(folder)
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):  # type: ignore[arg-type]
            name = spec.metadata["file"]
            if spec.metadata["per_reviewer"]:
                values[spec.name] = tuple(folder / name.format(reviewer=r) for r in reviewers)
            else:
                values[spec.name] = folder / name
        return cls(**values)

    @staticmethod
    def option(name: str) -> str:
        return f"--{name.replace('_', '-')}-out"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, folder: str) -> None:
        """``--<name>-out`` for every output, and ``--out DIR`` for the ones not named."""
        for spec in dataclasses.fields(cls):  # type: ignore[arg-type]
            file_name, text = spec.metadata["file"], spec.metadata["help"]
            if spec.metadata["per_reviewer"]:
                parser.add_argument(
                    cls.option(spec.name),
                    nargs="+",
                    default=None,
                    metavar="FILE",
                    help=f"{text}: one file per reviewer, in the order of screening.reviewers "
                    f"(default: DIR/{file_name})",
                )
            else:
                parser.add_argument(
                    cls.option(spec.name),
                    default=None,
                    metavar="FILE",
                    help=f"{text} (default: DIR/{file_name})",
                )
        parser.add_argument(
            "--out",
            default=None,
            metavar="DIR",
            help=f"folder for every output not named by its own option (the workflow: {folder})",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace, *, reviewers: Sequence[str] = ()) -> Self:
        """The outputs named on the command line, the others in ``--out DIR``; an error if neither."""
        defaults = cls.in_folder(args.out, reviewers=reviewers) if args.out else None
        values: dict[str, Any] = {}
        missing: list[str] = []
        for spec in dataclasses.fields(cls):  # type: ignore[arg-type]
            given = getattr(args, f"{spec.name}_out")
            option = cls.option(spec.name)
            if given is None:
                if defaults is None:
                    missing.append(option)
                else:
                    values[spec.name] = getattr(defaults, spec.name)
            elif spec.metadata["per_reviewer"]:
                if len(given) != len(reviewers):
                    raise InputError(
                        "(command line)",
                        f"{option} names {len(given)} files for {len(reviewers)} reviewers",
                        column=option,
                        expected="one file per reviewer, in the order of screening.reviewers: "
                        + ", ".join(reviewers),
                    )
                values[spec.name] = tuple(Path(p) for p in given)
            else:
                values[spec.name] = Path(given)
        if missing:
            raise InputError(
                "(command line)",
                "no file named for " + ", ".join(missing),
                expected="each of these options, or --out DIR to write them under their usual names",
            )
        return cls(**values)
