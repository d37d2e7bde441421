"""The ``mlx-lrsched`` command: plot, tabulate and list schedules given as JSON configs.

A config is what :meth:`~mlx_lrsched.Schedule.to_config` returns (nested for compositions), read from
a file or given inline (an argument starting with ``{``). Configs are parsed as JSON and rebuilt with
:func:`~mlx_lrsched.from_config`; nothing the user types is evaluated. A bad config prints one line on
stderr and exits with status 2: a config file is read only when it is a regular file of at most
``MAX_CONFIG_BYTES``, and a step is checked against ``2**63 - 1`` from its text, before any integer is built.

Subcommands::

    mlx-lrsched plot CONFIG.json [CONFIG2.json ...] --steps N -o out.png [--log-y] [--size 8x4.5] [--dpi 100]
    mlx-lrsched table CONFIG.json --at 0,100,1000 [--format text|csv|json]
    mlx-lrsched list [NAME ...] [--json]
    mlx-lrsched --version

This module imports neither matplotlib nor MLX itself: ``plot`` imports matplotlib and ``table`` uses
MLX only when they run.
"""

from __future__ import annotations

import argparse
import dataclasses
import decimal
import inspect
import json
import math
import os
import re
import stat
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__, _xp
from ._spec import spec_of
from .base import Schedule, from_config, schedule_class, schedule_names

USAGE_ERROR = 2
"""Exit status for a bad command line or config (as argparse uses)."""

RUNTIME_ERROR = 1
"""Exit status for a failure that is not the user's input (matplotlib missing, output not writable)."""

MAX_PIXELS_PER_SIDE = 20_000

MAX_CONFIG_BYTES = 1_000_000
"""The largest config (file or inline) read; a real one is a few hundred bytes."""

MAX_STEP_CHARS = 64
"""The longest step text parsed (``9_223_372_036_854_775_807`` is 25 characters)."""

MAX_MESSAGE_CHARS = 300
"""Error messages are cut to this length: a bad config's huge value is never echoed whole."""

# Errors a bad config can raise while it is rebuilt or evaluated: each becomes a one-line message.
CONFIG_ERRORS = (ValueError, TypeError, KeyError, OverflowError, RecursionError)


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with ``...`` when longer."""
    line = " ".join(text[: 4 * limit].split())  # never split a megabyte-long message
    return line if len(line) <= limit and len(text) <= 4 * limit else line[: limit - 3] + "..."


def _reason(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "config is nested too deeply"
    if isinstance(error, KeyError) and error.args:
        return f"missing key {shorten(repr(error.args[0]), 80)}"
    return str(error) or type(error).__name__


class CliError(Exception):
    """A one-line message for stderr and the exit status to leave with."""

    def __init__(self, message: str, status: int = USAGE_ERROR) -> None:
        super().__init__(shorten(message))
        self.status = status


# ---------------------------------------------------------------------------------------------- inputs


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def read_config_file(path: str) -> str:
    """The text of the config file ``path``: a regular file of at most ``MAX_CONFIG_BYTES``, in UTF-8.

    The file is opened without blocking and checked with ``fstat`` before it is read, so a FIFO, a
    device (``/dev/zero``) or a directory is refused at once instead of read without end.

    Raises:
        CliError: missing, unreadable, not a regular file, too large or not UTF-8.
    """
    name = shorten(path, 120)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise CliError(f"{name}: cannot read config: {reason}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise CliError(f"{name}: cannot read config: {kind}")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_CONFIG_BYTES and (chunk := os.read(descriptor, MAX_CONFIG_BYTES + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as error:
        raise CliError(f"{name}: cannot read config: {error.strerror or error}") from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_CONFIG_BYTES:
        raise CliError(f"{name}: cannot read config: larger than {MAX_CONFIG_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CliError(f"{name}: cannot read config: not UTF-8 text (byte {error.start})") from None


def load_schedule(argument: str) -> Schedule:
    """The schedule described by ``argument``: a JSON config file path, or inline JSON starting with ``{``.

    Raises:
        CliError: unreadable file, invalid JSON or a config :func:`~mlx_lrsched.from_config` rejects.
    """
    if argument.lstrip().startswith(("{", "[")):
        source, text = "inline config", argument
        if len(text) > MAX_CONFIG_BYTES:
            raise CliError(f"{source}: longer than {MAX_CONFIG_BYTES} characters")
    else:
        source, text = shorten(argument, 120), read_config_file(argument)
    try:
        config = json.loads(text, parse_constant=_reject_constant)
    except CONFIG_ERRORS as error:  # JSONDecodeError, NaN, a 5,000-digit integer, deep nesting
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise CliError(f"{source}: invalid JSON: {reason}") from None
    try:
        return from_config(config)
    except CONFIG_ERRORS as error:
        raise CliError(f"{source}: {_reason(error)}") from None


def parse_step(text: str) -> int:
    """A step in ``[0, 2**63 - 1]``: an integer, optionally written ``1_000`` or ``1e9`` (exactly).

    The bound is checked on the digits and the exponent before any integer is built, so ``1e999999999``
    is refused at once (converting it would build a billion-digit integer).
    """
    shown = repr(shorten(text, 40))
    if len(text) > MAX_STEP_CHARS:
        raise CliError(f"invalid step {shown}: longer than {MAX_STEP_CHARS} characters")
    cleaned = text.strip().replace("_", "")
    match = re.fullmatch(r"\+?(\d+)(?:\.(\d*))?(?:[eE]\+?(\d+))?", cleaned)
    if not match:
        raise CliError(f"invalid step {shown}: expected a non-negative integer such as 1000 or 1e6")
    whole, fraction, exponent = match.group(1), match.group(2) or "", int(match.group(3) or 0)
    digits = (whole + fraction).lstrip("0")
    # value = int(digits) * 10**(exponent - len(fraction)) < 10**(len(digits) + exponent - len(fraction))
    if digits and len(digits) + exponent - len(fraction) > len(str(_xp.MAX_STEP)):
        raise CliError(f"invalid step {shown}: steps must be <= 2**63 - 1")
    value = decimal.Decimal(cleaned) if digits else decimal.Decimal(0)
    if value != value.to_integral_value():
        raise CliError(f"invalid step {shown}: not an integer")
    step = int(value)
    if step > _xp.MAX_STEP:
        raise CliError(f"invalid step {shown}: steps must be <= 2**63 - 1")
    return step


def parse_steps(text: str) -> list[int]:
    """A comma-separated list of steps (see :func:`parse_step`)."""
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise CliError(f"--at needs at least one step, got {text!r}")
    return [parse_step(part) for part in parts]


def parse_size(text: str) -> tuple[float, float]:
    """A figure size ``WIDTHxHEIGHT`` in inches, such as ``8x4.5``."""
    if len(text) > MAX_STEP_CHARS:
        raise CliError(f"invalid --size {shorten(text, 40)!r}: expected WIDTHxHEIGHT in inches, such as 8x4.5")
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*[xX×]\s*(\d+(?:\.\d*)?)\s*", text)
    if not match:
        raise CliError(f"invalid --size {text!r}: expected WIDTHxHEIGHT in inches, such as 8x4.5")
    width, height = float(match.group(1)), float(match.group(2))
    if not (0.5 <= width <= 200 and 0.5 <= height <= 200):
        raise CliError(f"invalid --size {text!r}: width and height must be in [0.5, 200] inches")
    return width, height


# ------------------------------------------------------------------------------------------------ plot


def run_plot(args: argparse.Namespace) -> int:
    schedules = [load_schedule(config) for config in args.configs]
    twins = [load_schedule(config) for config in args.momentum]
    total_steps = parse_step(args.steps)
    if total_steps < 1:
        raise CliError("--steps must be at least 1")
    if args.label and len(args.label) != len(schedules):
        raise CliError(f"got {len(args.label)} --label for {len(schedules)} configs; give one per config")
    if twins and len(twins) not in (1, len(schedules)):
        raise CliError(f"got {len(twins)} --momentum for {len(schedules)} configs; give one, or one per config")
    width, height = parse_size(args.size)
    if not 10 <= args.dpi <= 1000:
        raise CliError(f"--dpi must be in [10, 1000], got {args.dpi:g}")
    if max(width, height) * args.dpi > MAX_PIXELS_PER_SIDE:
        raise CliError(f"--size {args.size} at --dpi {args.dpi:g} exceeds {MAX_PIXELS_PER_SIDE} pixels per side")
    try:
        from .plot import new_figure, plot, save_figure

        figure = new_figure((width, height), args.dpi)
    except ImportError as error:
        raise CliError(str(error), RUNTIME_ERROR) from None
    momentum: Any = False
    if len(twins) == 1 and len(schedules) > 1:
        momentum = twins[0]
    elif twins:
        momentum = twins
    try:
        plot(
            schedules,
            total_steps,
            labels=args.label or None,
            ax=figure.add_subplot(),
            log_y=args.log_y,
            momentum=momentum,
            title=args.title,
            phases=not args.no_phases,
        )
    except CONFIG_ERRORS as error:
        raise CliError(f"cannot plot the schedule(s): {_reason(error)}") from None
    try:
        save_figure(figure, args.output)
    except (OSError, ValueError) as error:
        raise CliError(f"{args.output}: cannot write the figure: {error}", RUNTIME_ERROR) from None
    width_px, height_px = (round(side * args.dpi) for side in (width, height))
    print(f"wrote {args.output} ({width_px}x{height_px} px, {len(schedules)} schedule(s), {total_steps} steps)")
    return 0


# ----------------------------------------------------------------------------------------------- table


def relative_difference(value: float, reference: float) -> float:
    """``|value - reference| / |reference|``; 0 when both are 0 and ``inf`` when only the reference is."""
    if value == reference:
        return 0.0
    if reference == 0.0:
        return math.inf
    return abs(value - reference) / abs(reference)


def tabulate(schedule: Schedule, steps: Sequence[int]) -> list[dict[str, Any]]:
    """Rows ``{"step", "numpy_float64"[, "mlx_float32", "rel_diff"]}`` for each step.

    The reference column is the NumPy float64 path; the MLX column (when MLX is importable) is the
    schedule called with a ``uint64`` ``mx.array``, exactly what an optimizer passes.
    """
    import numpy as np

    reference = np.asarray(schedule(np.array(steps, dtype=np.int64)), dtype=np.float64).reshape(-1)
    rows: list[dict[str, Any]] = [
        {"step": step, "numpy_float64": float(value)} for step, value in zip(steps, reference, strict=True)
    ]
    if _xp.MLX is not None:
        import mlx.core as mx

        product = np.array(schedule(mx.array(list(steps), dtype=mx.uint64)), dtype=np.float32).reshape(-1)
        for row, value in zip(rows, product, strict=True):
            row["mlx_float32"] = float(value)
            row["rel_diff"] = relative_difference(float(value), row["numpy_float64"])
    return rows


def _format_number(key: str, value: float) -> str:
    if key == "rel_diff":
        return f"{value:.2e}"
    # shortest strings that read back as exactly the same float64 / float32
    return repr(value) if key == "numpy_float64" else f"{value:.9g}"


def run_table(args: argparse.Namespace) -> int:
    schedule = load_schedule(args.config)
    steps = parse_steps(args.at)
    try:
        rows = tabulate(schedule, steps)
        header = json.dumps(schedule.to_config()) if args.format == "json" else repr(schedule)
    except CONFIG_ERRORS as error:
        raise CliError(f"{shorten(args.config, 120)}: cannot evaluate the schedule: {_reason(error)}") from None
    if args.format == "json":
        print(json.dumps({"schedule": json.loads(header), "rows": rows}, allow_nan=True))
        return 0
    keys = list(rows[0])
    cells = [[str(row["step"])] + [_format_number(key, row[key]) for key in keys[1:]] for row in rows]
    if args.format == "csv":
        print(",".join(keys))
        for line in cells:
            print(",".join(line))
        return 0
    widths = [max(len(key), *(len(line[i]) for line in cells)) for i, key in enumerate(keys)]
    print("# " + header)
    if _xp.MLX is None:
        print("# MLX is not importable: NumPy float64 reference only")
    print("  ".join(key.rjust(width) for key, width in zip(keys, widths, strict=True)))
    for line in cells:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))
    return 0


# ------------------------------------------------------------------------------------------------ list


def _docstring_parts(cls: type) -> tuple[str, str]:
    """The first sentence/paragraph of a class docstring and its first ``.. math::`` block, one line each."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    paragraphs = doc.split("\n\n")
    summary = " ".join(paragraphs[0].split()).replace("``", "") if doc else ""
    formula = ""
    lines = doc.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(".. math::"):
            block = [stripped[len(".. math::") :].strip()]
            indent = len(line) - len(line.lstrip())
            for following in lines[index + 1 :]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                block.append(following.strip())
            formula = " ".join(" ".join(block).split())
            break
    return summary, formula


def describe_class(name: str) -> dict[str, Any]:
    """Name, module, one-line summary and formula, and parameters (type, range, default) of a registered schedule."""
    cls = schedule_class(name)
    summary, formula = _docstring_parts(cls)
    parameters: list[dict[str, Any]] = []
    fields: tuple[dataclasses.Field[Any], ...] = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
    for field in fields:
        if not field.init:
            continue
        entry: dict[str, Any] = {"name": field.name, "type": str(field.type)}
        spec = spec_of(field)
        if spec is not None:
            entry["range"] = spec.describe()
        if field.default is not dataclasses.MISSING:
            entry["default"] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            entry["default"] = field.default_factory()
        else:
            entry["required"] = True
        parameters.append(entry)
    module = cls.__module__.rsplit(".", 1)[-1]
    return {"name": name, "module": module, "summary": summary, "formula": formula, "parameters": parameters}


def _signature(entry: dict[str, Any]) -> str:
    parts = []
    for parameter in entry["parameters"]:
        text = f"{parameter['name']}: {parameter['type']}"
        if "default" in parameter:
            text += f" = {parameter['default']!r}"
        parts.append(text)
    return f"{entry['name']}({', '.join(parts)})"


def run_list(args: argparse.Namespace) -> int:
    names = args.names or schedule_names()
    try:
        entries = [describe_class(name) for name in names]
    except ValueError as error:
        raise CliError(str(error)) from None
    if args.json:
        print(json.dumps(entries, indent=2, default=repr))
        return 0
    for entry in entries:
        print(f"{_signature(entry)}  [{entry['module']}]")
        if entry["summary"]:  # the first paragraph states the formula in plain text; --json has the LaTeX too
            print(f"    {entry['summary']}")
        for parameter in entry["parameters"]:
            if "range" in parameter:
                print(f"    {parameter['name']}: {parameter['range']}")
    return 0


# ------------------------------------------------------------------------------------------------ main


def build_parser() -> argparse.ArgumentParser:
    """The ``mlx-lrsched`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="mlx-lrsched",
        description="Plot, tabulate and list learning-rate schedules given as JSON configs "
        "(Schedule.to_config() output, from a file or inline as '{...}').",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{plot,table,list}")

    plot = commands.add_parser("plot", help="plot one or several schedules into an image file")
    plot.add_argument("configs", nargs="+", metavar="CONFIG", help="a JSON config file or inline JSON")
    plot.add_argument("--steps", required=True, metavar="N", help="number of steps to draw (e.g. 1000 or 1e6)")
    plot.add_argument("-o", "--output", required=True, metavar="FILE", help="output image (.png, .svg, .pdf)")
    plot.add_argument("--label", action="append", default=[], help="legend label, once per config")
    plot.add_argument("--momentum", action="append", default=[], metavar="CONFIG", help="momentum schedule config")
    plot.add_argument("--log-y", action="store_true", help="logarithmic learning-rate axis")
    plot.add_argument("--title", default=None, help="figure title")
    plot.add_argument("--size", default="8x4.5", metavar="WxH", help="figure size in inches (default 8x4.5)")
    plot.add_argument("--dpi", type=float, default=100.0, help="dots per inch (default 100)")
    plot.add_argument("--no-phases", action="store_true", help="do not mark phase boundaries")
    plot.set_defaults(run=run_plot)

    table = commands.add_parser("table", help="values at given steps, NumPy float64 and MLX float32 side by side")
    table.add_argument("config", metavar="CONFIG", help="a JSON config file or inline JSON")
    table.add_argument("--at", required=True, metavar="STEPS", help="comma-separated steps, e.g. 0,100,1e6")
    table.add_argument("--format", choices=("text", "csv", "json"), default="text", help="output format")
    table.set_defaults(run=run_table)

    listing = commands.add_parser("list", help="every schedule with its parameters, defaults and formula")
    listing.add_argument("names", nargs="*", metavar="NAME", help="only these schedules")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(run=run_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 1 other failure)."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except CliError as error:
        print(f"mlx-lrsched: error: {error}", file=sys.stderr)
        return error.status
    except CONFIG_ERRORS as error:  # a path the checks above missed: still one line, never a traceback
        print(f"mlx-lrsched: error: {shorten(f'{type(error).__name__}: {_reason(error)}')}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # `mlx-lrsched list | head`: the reader left; stop quietly, no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
