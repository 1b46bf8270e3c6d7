"""Tests for `atlas-xl doctor` (workbook/doctor.py): each check passes here and fails, with its fix,
on the machine states it exists for."""
import struct
import types

import pytest
import xlwings

import atlas_xl_cli as cli
from workbook import doctor, template


def test_ready_here(capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "[FAIL]" not in out and "Python side ready." in out
    assert "Unblock" in out and "then SAVE the file" in out and "#NAME?" in out


def test_another_xlwings_is_a_problem_with_its_fix(monkeypatch, capsys):
    monkeypatch.setattr(xlwings, "__version__", "0.38.0")
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert f"[FAIL] xlwings: 0.38.0 installed; the template's macros need {template.XLWINGS_VERSION} — " \
           f"pip install xlwings=={template.XLWINGS_VERSION}" in out
    assert "1 problem found." in out


def test_old_python():
    check = doctor.check_python((3, 9, 1), "C:\\Python39\\python.exe")
    assert not check.ok and "3.10 or newer" in check.line()


def test_dll_beside_python_on_windows(tmp_path):
    bits = struct.calcsize("P") * 8
    exe = tmp_path / "Scripts" / "python.exe"
    exe.parent.mkdir()
    missing = doctor.check_dll("win32", prefix=tmp_path, executable=exe)
    assert not missing.ok and f"xlwings{bits}-{template.XLWINGS_VERSION}.dll not found" in missing.line()
    (tmp_path / f"xlwings{bits}-{template.XLWINGS_VERSION}.dll").write_bytes(b"")
    assert doctor.check_dll("win32", prefix=tmp_path, executable=exe).ok  # a virtualenv: one folder up
    assert doctor.check_dll("linux").ok


@pytest.mark.parametrize("ensure, ok, text", [
    (lambda *args: types.ModuleType("excel"), True, "present"),
    (lambda *args: None, False, "type library was not found"),
    (lambda *args: (_ for _ in ()).throw(OSError("access denied")), False, "cannot build it (OSError: access denied)"),
])
def test_pywin32_excel_cache_on_windows(ensure, ok, text):
    check = doctor.check_excel_cache("win32", types.SimpleNamespace(EnsureModule=ensure))
    assert check.ok is ok and text in check.line()
    if not ok:
        assert "gencache.EnsureModule" in check.line()


def test_module_and_catalog_problems(tmp_path):
    assert not doctor.check_module("no_such_udf_module").ok
    (tmp_path / "models.csv").write_text("model,params_b\nbroken\n")
    check = doctor.check_catalog(tmp_path)
    assert not check.ok and "\n" not in check.line()
    assert doctor.check_module().ok and doctor.check_button_module().ok
