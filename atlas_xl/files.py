"""Files in and out, guarded: scenario/spec files read with limits, outputs written atomically.

`read_spec` reads a YAML or JSON file a person wrote. Before the YAML library builds anything,
the event stream is scanned with limits (size, nesting depth, aliases, nodes), so an alias bomb
or a 10 000-deep nesting is refused in milliseconds; the document is then built with
``yaml.safe_load`` (no tags execute) and every leaf checked: no NaN/inf, no integers beyond the
plausible, no binary or set tags; dates become ISO text.

`atomic_output` is the one way a file is written: to a temporary file beside the target, then
moved into place so a reader sees the old file or the complete new one, never half of it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError


@dataclass(frozen=True)
class SpecLimits:
    max_bytes: int = 1024 * 1024  # the largest shipped spec file is a few kB
    max_depth: int = 32  # workloads.yaml nests 3 levels
    max_aliases: int = 100  # anchors are a convenience; bombs need thousands
    max_nodes: int = 100_000
    max_integer: float = 1e15  # as atlas_xl.values.MAX_TOKENS_PER_DAY: no figure of a spec is larger


SPEC_LIMITS = SpecLimits()


def read_spec(path, what="spec", limits=SPEC_LIMITS):
    """The document of a YAML/JSON file, checked; InputError (one line) otherwise."""
    import yaml

    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.max_bytes + 1)
    except OSError as error:
        raise InputError(f"cannot read {what} file '{path}': {error.strerror or error}") from None
    if len(data) > limits.max_bytes:
        raise InputError(f"{what} file '{path}' is larger than {limits.max_bytes // 1024} kB — a {what} file "
                         "is a few lines of YAML")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{what} file '{path}' is UTF-16 — save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise InputError(f"{what} file '{path}' line {line}: byte 0x{data[error.start]:02X} is not UTF-8 — "
                         "save the file as UTF-8") from None
    _scan_events(text, path, what, limits)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise _not_yaml(error, path, what) from None
    except (RecursionError, MemoryError):
        raise InputError(f"{what} file '{path}' is too deeply nested or too large — simplify it") from None
    return _clean(doc, path, what, limits, "")


def _not_yaml(error, path, what):
    """The one-line error for a file YAML cannot parse, with the line and the problem where known."""
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark else ""
    problem = getattr(error, "problem", None)
    detail = f" ({problem})" if problem else ""
    return InputError(f"{what} file '{path}' is not valid YAML/JSON{where}{detail} — fix the file")


def _scan_events(text, path, what, limits):
    """Walk the YAML event stream once: depth, aliases, and the size the document has once every
    alias is expanded (an alias bomb is small on disk and huge expanded) — nothing is built."""
    import yaml

    depth = aliases = expanded = 0
    sizes, open_nodes = {}, []  # anchor → expanded size; stack of (anchor, expanded count at start)
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > limits.max_aliases:
                    raise InputError(f"{what} file '{path}' uses more than {limits.max_aliases} aliases (*name) — "
                                     "refusing (possible alias bomb); write the values out")
                expanded += sizes.get(event.anchor, 1)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > limits.max_depth:
                    raise InputError(f"{what} file '{path}' nests deeper than {limits.max_depth} levels "
                                     f"(line {event.start_mark.line + 1}) — flatten it")
                open_nodes.append((event.anchor, expanded))
                expanded += 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
                anchor, start = open_nodes.pop()
                if anchor:
                    sizes[anchor] = expanded - start
            elif isinstance(event, yaml.ScalarEvent):
                expanded += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            if expanded > limits.max_nodes:
                raise InputError(f"{what} file '{path}' expands to more than {limits.max_nodes:,} values "
                                 "(aliases included) — refusing (possible alias bomb)")
    except yaml.YAMLError as error:
        raise _not_yaml(error, path, what) from None


def _clean(value, path, what, limits, key):
    """Check every leaf; dates become ISO text (YAML reads 2026-01-01 as a date, people mean text)."""
    at = f"{what} file '{path}'" + (f", key {key}" if key else "")
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, (dict, list, tuple)) or k is None:
                raise InputError(f"{at}: a key must be a name, not {type(k).__name__} — fix the file")
            name = k.isoformat() if isinstance(k, (dt.date, dt.datetime)) else str(k)
            out[name] = _clean(v, path, what, limits, f"{key}.{name}" if key else name)
        return out
    if isinstance(value, list):
        return [_clean(v, path, what, limits, f"{key}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        if isinstance(value, str):
            from .values import check_text
            check_text(value, at)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{at}: {value} is not a finite number — give a number")
        return value
    if isinstance(value, int):
        if abs(value) > limits.max_integer:
            digits = len(str(abs(value))) if abs(value) < 10 ** 4000 else "thousands of"
            raise InputError(f"{at}: a {digits}-digit number is beyond any plausible value "
                             f"(at most {limits.max_integer:g}) — check the file")
        return value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise InputError(f"{at}: a {type(value).__name__} value is not allowed — write text or a number")


# -- writing ----------------------------------------------------------------------------------------
TEMP_MARK = ".atlas-tmp-"
_TEMP = re.compile(r"\.(?P<name>.+)\.atlas-tmp-(?P<pid>\d+)-[A-Za-z0-9_]+(\.\w+)?$")


def _umask():
    """The process umask (read without changing it where /proc allows)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def process_alive(pid):
    """Whether a process with this pid exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temp_files(directory, name=None):
    """Temporary files of atlas-xl runs that were killed (their process no longer exists)."""
    found = []
    for entry in Path(directory).glob(f".*{TEMP_MARK}*"):
        match = _TEMP.match(entry.name)
        if match and (name is None or match.group("name") == name) and not process_alive(int(match.group("pid"))):
            found.append(entry)
    return found


def remove_stale_temp_files(directory, name=None):
    for entry in stale_temp_files(directory, name):
        with contextlib.suppress(OSError):
            entry.unlink()


@contextlib.contextmanager
def atomic_output(path, *, overwrite=False):
    """Yield a temporary path beside ``path``; when the block succeeds, move it into place.

    - ``overwrite=False``: the file is created exclusively — if ``path`` appeared meanwhile (another
      writer), nothing is replaced and InputError says so (no check-then-write race).
    - The new file gets the mode of the file it replaces, or 0666 minus the umask for a new file
      (what any other program would create), never tempfile's 0600.
    - The temporary file is removed on every exit path (exceptions, SIGTERM through SystemExit);
      temporaries of killed runs (kill -9) are recognised by name and process id and removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite and path.exists():
        raise InputError(f"'{path}' already exists — choose another name, or pass --force to replace it")
    remove_stale_temp_files(path.parent, path.name)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}{TEMP_MARK}{os.getpid()}-", suffix=path.suffix,
                                  dir=path.parent)
    os.close(handle)
    temp = Path(temp)
    try:
        yield temp
        try:
            mode = path.stat().st_mode & 0o7777 if overwrite else None
        except FileNotFoundError:
            mode = None
        os.chmod(temp, mode if mode is not None else 0o666 & ~_umask())
        if overwrite:
            os.replace(temp, path)
        else:
            _link_exclusive(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _link_exclusive(temp, path):
    """Move ``temp`` to ``path`` only if ``path`` does not exist (atomic: link fails if it does)."""
    try:
        os.link(temp, path)
    except FileExistsError:
        raise InputError(f"'{path}' was created by another program meanwhile — nothing replaced; choose "
                         "another name, or pass --force to replace it") from None
    except OSError as error:  # file systems without hard links: exclusive create, then replace
        if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise InputError(f"'{path}' was created by another program meanwhile — nothing replaced") from None
        os.replace(temp, path)


@contextlib.contextmanager
def exclusive_update(path, *, wait=False):
    """Hold the update lock of ``path`` (a file updated in place) for the block.

    One writer at a time: another atlas-xl updating the same file gets a clear InputError at once
    (``wait=False``) instead of silently losing one of the two updates. The lock is an advisory
    ``flock`` on the file itself, re-checked after locking so that a file replaced meanwhile (by
    the writer that held the lock) is locked afresh.
    """
    import fcntl

    path = Path(path)
    while True:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as error:
            raise InputError(f"cannot open '{path}': {error.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            raise InputError(f"'{path}' is being updated by another atlas-xl run — try again when it "
                             "has finished") from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # replaced while we waited: lock the new file
    try:
        yield path
    finally:
        os.close(fd)
