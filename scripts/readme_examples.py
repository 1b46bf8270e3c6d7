"""The README's console examples are real output: run each `$ atlas-xl …` line through the CLI's main().

    python scripts/readme_examples.py          # rewrite README.md's examples from real runs
    python scripts/readme_examples.py --check  # exit 1 and name the example that differs

A block marked ``(abridged)`` keeps only the lines it shows (matched by their first word, a field name);
an example with nothing under it (a command shown for reference) is not run. tests/test_readme.py runs
the check.
"""
from __future__ import annotations

import contextlib
import io
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RUN_IN = ROOT  # relative paths in the examples (out/…) are the repository's
SKIP = ("atlas-xl recalc", "atlas-xl report")  # they write files; docs/headless.md and the tests cover them
PRICES_AGED_ON = "2026-12-03"  # ATLAS_XL_TODAY: price ages (rank's 'price as of' marks) do not move with the calendar


def run(command):
    """What the terminal shows for ``command`` (stdout, then stderr), run in-process through main()."""
    import atlas_xl_cli

    import os
    from unittest import mock

    argv = shlex.split(command.split("  #")[0])[1:]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            mock.patch.dict(os.environ, {"ATLAS_XL_TODAY": PRICES_AGED_ON}):
        atlas_xl_cli.main(argv)
    return [line.rstrip() for line in (out.getvalue() + err.getvalue()).rstrip("\n").splitlines()]


def _squeeze(lines):
    """Close up the blank bands that lines left out leave: a character column blank in every line is
    dropped where the column to its left is blank in every line too (alignment is kept)."""
    width = max(map(len, lines))
    padded = [line.ljust(width) for line in lines]
    blank = [all(line[i] == " " for line in padded) for i in range(width)]
    keep = [i for i in range(width) if not (blank[i] and i > 0 and blank[i - 1])]
    return ["".join(line[i] for i in keep).rstrip() for line in padded]


def _abridge(shown, real):
    """The real lines whose first word is a shown line's, blank lines where the example has them,
    each run of lines squeezed as the full output's widest row no longer spaces it."""
    keys = {line.split()[0] for line in shown if line.split()}
    kept = [line for line in real if not line.split() or line.split()[0] in keys]
    if "" not in shown:
        kept = [line for line in kept if line]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
    groups = [g.split("\n") for g in text.split("\n\n")]
    return "\n\n".join("\n".join(_squeeze(g)) for g in groups).split("\n")


def examples(text):
    """(start, end, command, shown lines, abridged) of every runnable example, in order."""
    for block in re.finditer(r"```console\n(.*?)```", text, re.S):
        lines = block.group(1).rstrip("\n").split("\n")
        offset = block.start(1)
        starts = [i for i, line in enumerate(lines) if line.startswith("$ ")]
        for n, i in enumerate(starts):
            stop = starts[n + 1] if n + 1 < len(starts) else len(lines)
            body = lines[i + 1:stop]
            while body and not body[-1].strip():
                body = body[:-1]
            if not body or lines[i][2:].startswith(SKIP):
                continue
            abridged = body[-1] == "(abridged)"
            begin = offset + sum(len(x) + 1 for x in lines[:i + 1])
            end = begin + sum(len(x) + 1 for x in body) - 1
            yield begin, end, lines[i][2:], body[:-1] if abridged else body, abridged


def rendered(text):
    """README text with every runnable example's output replaced by a real run's."""
    pieces, at = [], 0
    for begin, end, command, shown, abridged in examples(text):
        real = run(command)
        new = _abridge(shown, real) + ["(abridged)"] if abridged else real
        pieces += [text[at:begin], "\n".join(new)]
        at = end
    return "".join(pieces) + text[at:]


def main(argv):
    text = README.read_text(encoding="utf-8")
    new = rendered(text)
    if "--check" in argv:
        if new != text:
            for old_line, new_line in zip(text.splitlines(), new.splitlines()):
                if old_line != new_line:
                    print(f"README.md differs from a real run:\n  shown: {old_line}\n  real:  {new_line}")
                    break
            return 1
        return 0
    if new != text:
        temp = README.with_suffix(".md.tmp")
        temp.write_text(new, encoding="utf-8")
        temp.replace(README)
        print("README.md examples rewritten from real runs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
