"""The parser of every command, and ``main``: parse → the command's handler → an exit status.

Library errors become one line on stderr and exit status 1, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import sys

from atlas_xl import __version__
from atlas_xl.errors import AtlasError, CatalogError
from atlas_xl_cli import catalogs, finance, planning, simulation, workbooks

COMMANDS = tuple(handler.command for group in (planning, simulation, workbooks, catalogs, finance)
                 for handler in group.COMMANDS)


class Parser(argparse.ArgumentParser):
    """argparse with errors as one line — the reason first, then where to read the usage."""

    def error(self, message):
        message = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)  # one line, always
        message = re.sub(r"^argument ([\w-]+): \1 ", r"\1 ", message)  # not "argument x: x ..."
        message = re.sub(r"^argument --([\w-]+): \w+ ", lambda m: f"--{m.group(1)} ", message)
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


NEGATIVE = re.compile(r"-(\d|\.\d)")
SCALE_WORDS = ("thousand", "million", "billion", "trillion", "k", "m", "b", "bn", "t")


def explain_argv(argv):
    """Mistakes argparse words badly, caught before parsing: the reason as one line, or None."""
    for i, token in enumerate(argv):
        option_value = i > 0 and argv[i - 1].startswith("-") and not NEGATIVE.match(argv[i - 1])
        plain = re.fullmatch(r"-\d+|-\d*\.\d+", token)  # argparse reads these as values itself
        if NEGATIVE.match(token) and not plain and i > 0 and not option_value:
            return f"'{token}': a negative value is not allowed here — volumes and counts must be greater than 0"
        if token.lower() in SCALE_WORDS and i > 0 and re.fullmatch(r"[\d.,_eE+]+", argv[i - 1]):
            return f"'{argv[i - 1]} {token}' must be one word — write {argv[i - 1]}{token[0].upper()} (like 2B or 500M)"
    return None


def build_parser():
    """The ``atlas-xl`` parser: one subcommand per entry of COMMANDS."""
    parser = Parser(
        prog="atlas-xl", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Plan LLM serving (GPU count, monthly cost per platform, cost per million tokens) "
                    "and simulate a configuration (throughput, latency, power, energy cost).",
        epilog="examples:\n  atlas-xl rank 2B steady llama_70b\n  atlas-xl plan 2B steady llama_70b together")
    parser.add_argument("--version", action="version", version=f"atlas-xl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_to(sub)
    return parser


def main(argv=None):
    """Run one command line (default: sys.argv); returns the exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    problem = explain_argv(argv)
    if problem:
        command = f" {argv[0]}" if argv and argv[0] in {c.name for c in COMMANDS} else ""
        print(f"atlas-xl{command}: error: {problem}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, terminate)  # `finally` blocks (temp-file cleanup) run on kill
    try:
        status = args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: one line and the shell's status for SIGINT, never a traceback
        print("atlas-xl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `atlas-xl rank ... | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (AtlasError, OSError) as error:
        lines = str(error).strip().splitlines() or [type(error).__name__]
        if not isinstance(error, CatalogError):  # one line: only a catalog lists one line per bad row
            lines = [" ".join(lines)]
        for line in lines[:21]:  # a catalog reports one line per malformed row
            print(f"atlas-xl: error: {line}", file=sys.stderr)
        return 1
    except (RecursionError, MemoryError) as error:
        print(f"atlas-xl: error: the input is too large or too deeply nested ({type(error).__name__}) — "
              "simplify it", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 — a bug: one line, never a traceback
        if os.environ.get("ATLAS_XL_DEBUG"):
            raise
        print(f"atlas-xl: internal error: {type(error).__name__}: {_one_line(error)} — please report it "
              "(ATLAS_XL_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 3
    return status or 0  # a command may report a problem through its status (doctor)


def _one_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def terminate(signum, frame):
    """SIGTERM handler: exit through SystemExit, so `finally` blocks and context managers clean up."""
    raise SystemExit(128 + signum)
