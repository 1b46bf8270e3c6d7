"""Guarded files (atlas_xl/files.py): scenario/spec YAML with limits, atomic writes with the
umask's permissions, exclusive create, an update lock and temp-file cleanup — tested with real
concurrent processes."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

import atlas_xl_cli as cli
from atlas_xl import files
from atlas_xl.errors import InputError
from workbook.reports import scenario_from

ROOT = Path(__file__).parents[1]


def spec(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


# -- YAML / JSON ---------------------------------------------------------------------------------
def bomb(levels=9, width=9):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, message", [
    (bomb(), "expands to more than 100,000 values"),
    ("a: &a [x]\n" + "".join(f"b{i}: *a\n" for i in range(101)), "more than 100 aliases"),
    ("[" * 10_000 + "]" * 10_000, "nests deeper than 32 levels"),
    ("title: caf\xe9\n".encode("latin-1"), "line 1: byte 0xE9 is not UTF-8"),
    ("seed: .inf\n", "key seed: inf is not a finite number"),
    ("top: .nan\n", "key top: nan is not a finite number"),
    ("simulator: {seed: " + "9" * 400 + "}\n", "400-digit number is beyond any plausible value"),
    ("title: !!binary aGVsbG8=\n", "a bytes value is not allowed"),
    ("title: !!python/object/apply:os.system [echo hi]\n", "is not valid YAML/JSON"),
    ("a: [1, 2\n", "is not valid YAML/JSON"),
    ("title: \"a\\x07b\"\n", "control character U+0007"),
])
def test_spec_file_refused_in_one_line(tmp_path, text, message):
    path = spec(tmp_path, text)
    started = time.perf_counter()
    with pytest.raises(InputError) as info:
        files.read_spec(path, "scenario")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert time.perf_counter() - started < 5  # issue 13: refused in ≤ 5 s (no expansion, no recursion)


@pytest.mark.parametrize("doc, message", [
    ({"offerings": 5}, "scenario offerings must be a list of platform keys"),
    ({"title": [1, 2]}, "scenario title must be text, not list"),
    ({"simulator": {"knobs": "abc"}}, "scenario simulator.knobs must be a mapping"),
    ({"schedule": "maybe"}, "scenario schedule must be true or false"),
    ({"seed": 2.5}, "scenario seed must be a whole number"),
    ({"workload": {"tokens_per_day": "1,5B"}}, "decimal comma"),
    ({"workload": {"tokens_per_day": 1e30}}, "above the plausible limit"),
    ({"sweep": 7}, "scenario sweep must be a list"),
])
def test_scenario_kinds_one_line(doc, message):
    with pytest.raises(InputError, match=message):
        scenario_from(doc)


def test_timestamp_title_is_text(tmp_path):
    doc = files.read_spec(spec(tmp_path, "title: 2026-01-31\n"), "scenario")
    assert scenario_from(doc).title == "2026-01-31"  # YAML's date read back as the text typed


def test_cli_refuses_hostile_workload_file(tmp_path, capsys):
    path = spec(tmp_path, "name: w\nparallelism: {tp: " + "7" * 400 + "}\n", "w.yaml")
    code = cli.main(["simulate", "nvidia_h100_8x_nvlink", str(path)])
    err = capsys.readouterr().err
    assert code == 1 and "400-digit number" in err and err.count("\n") == 1


# -- writing -------------------------------------------------------------------------------------
def small_book(path):
    book = Workbook()
    book.active["A1"] = 1
    book.active["B1"] = "=A1*2"
    book.save(path)
    return path


def test_new_file_gets_the_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with files.atomic_output(tmp_path / "out.txt") as temp:
            temp.write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644  # 0666 & ~022, not mkstemp's 0600


def test_report_file_is_readable_by_colleagues(tmp_path):
    old = os.umask(0o002)
    try:
        code = cli.main(["report", "-o", str(tmp_path / "r.xlsx"), "--no-schedule"])
    finally:
        os.umask(old)
    assert code == 0 and (tmp_path / "r.xlsx").stat().st_mode & 0o777 == 0o664


def test_replaced_file_keeps_its_mode(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old")
    target.chmod(0o640)
    with files.atomic_output(target, overwrite=True) as temp:
        temp.write_text("new")
    assert target.read_text() == "new" and target.stat().st_mode & 0o777 == 0o640


def test_failure_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with files.atomic_output(target, overwrite=True) as temp:
            temp.write_text("half")
            raise RuntimeError("writer failed")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["t.txt"]


def run_children(code, count, *args):
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *map(str, args), str(i)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
             for i in range(count)]
    return [(p.wait(timeout=120), *p.communicate()) for p in procs]


def test_exclusive_create_under_a_race(tmp_path):
    """Eight processes write the same new file at the same moment without --force: exactly one
    wins, the others say so, and the file holds the winner's complete content."""
    start = time.time() + 1.5
    results = run_children("""
        import sys, time
        from atlas_xl import files
        from atlas_xl.errors import InputError
        path, start, me = sys.argv[1], float(sys.argv[2]), sys.argv[3]
        with files.atomic_output(path + ".probe", overwrite=True) as t: t.write_text("")  # warm imports
        time.sleep(max(0, start - time.time()))
        try:
            with files.atomic_output(path) as temp:
                temp.write_text(me * 100000)
                time.sleep(0.2)
            print("wrote", me)
        except InputError as error:
            print("refused", error)
    """, 8, tmp_path / "same.txt", start)
    wrote = [out for code, out, err in results if out.startswith("wrote")]
    assert all(code == 0 and not err for code, out, err in results)
    assert len(wrote) == 1
    winner = wrote[0].split()[1]
    assert (tmp_path / "same.txt").read_text() == winner * 100000
    assert not list(tmp_path.glob(".*atlas-tmp*"))


def test_in_place_update_lock_refuses_a_second_writer(tmp_path):
    book = small_book(tmp_path / "book.xlsx")
    os.chmod(book, 0o644)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from atlas_xl import files
        with files.exclusive_update(sys.argv[1]):
            print("locked", flush=True)
            sys.stdin.read()  # hold the lock until the test closes our stdin
    """), str(book)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert holder.stdout.readline().strip() == "locked"
    try:
        second = subprocess.run([sys.executable, "-m", "atlas_xl_cli", "recalc", str(book), "--in-place",
                                 "--set", "Sheet!A1=5"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert second.returncode == 1
    assert "is being updated by another atlas-xl run — try again" in second.stderr
    assert second.stderr.count("\n") == 1
    assert load_workbook(book)["Sheet"]["A1"].value == 1  # untouched


def test_concurrent_in_place_runs_lose_nothing_silently(tmp_path):
    """Eight `recalc --in-place` at once: each one either updates the file or says it could not;
    the file stays a valid workbook with its mode."""
    book = small_book(tmp_path / "book.xlsx")
    os.chmod(book, 0o644)
    start = time.time() + 2
    results = run_children("""
        import sys, time
        import atlas_xl_cli
        path, start, me = sys.argv[1], float(sys.argv[2]), sys.argv[3]
        time.sleep(max(0, start - time.time()))
        sys.exit(atlas_xl_cli.main(["recalc", path, "--in-place", "--set", f"Sheet!A1={int(me) + 10}"]))
    """, 8, book, start)
    ok = [r for r in results if r[0] == 0]
    refused = [r for r in results if r[0] == 1]
    assert len(ok) + len(refused) == 8 and ok
    assert all("being updated by another atlas-xl run" in err for _, _, err in refused)
    written = {me + 10 for me, (code, _, _) in enumerate(results) if code == 0}
    assert load_workbook(book)["Sheet"]["A1"].value in written  # the last successful update, whole
    print(f"{len(ok)} updated, {len(refused)} refused")
    assert book.stat().st_mode & 0o777 == 0o644
    assert not list(tmp_path.glob(".*atlas-tmp*"))


def test_sigterm_removes_the_temp_file_and_kill9_leftovers_are_recognised(tmp_path):
    child = """
        import signal, sys, time
        import atlas_xl_cli
        from atlas_xl import files
        signal.signal(signal.SIGTERM, atlas_xl_cli.terminate)
        with files.atomic_output(sys.argv[1]) as temp:
            temp.write_bytes(b"x" * 1000)
            print("writing", flush=True)
            time.sleep(30)
    """
    target = tmp_path / "out.xlsx"
    for sig in (signal.SIGTERM, signal.SIGKILL):
        proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(child), str(target)],
                                stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(sig)
        proc.wait(timeout=30)
        leftovers = list(tmp_path.glob(".*atlas-tmp*"))
        if sig == signal.SIGTERM:
            assert leftovers == [] and not target.exists()
        else:  # kill -9 cannot be caught: the next write recognises the dead run's file
            assert len(leftovers) == 1 and files.stale_temp_files(tmp_path) == leftovers
    with files.atomic_output(target) as temp:
        temp.write_text("done")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xlsx"]
