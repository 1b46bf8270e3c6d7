"""Rewrite calc_addin/XAtlas.idl from udfs.functions and compile it to calc_addin/atlas_xl.rdb.

    python -m calc_addin.regenerate          (needs unoidl-write: apt-get install libreoffice-dev)

Run it after adding, removing or renaming a worksheet function or one of its arguments;
tests/test_calc_addin.py fails until the committed files match.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from calc_addin import package, spec

TOOL_PLACES = ("/usr/lib/libreoffice/sdk/bin/unoidl-write", "/opt/libreoffice/sdk/bin/unoidl-write")
TYPES_PLACES = ("/usr/lib/libreoffice/program/types.rdb", "/opt/libreoffice/program/types.rdb")


def unoidl_write():
    """(tool, LibreOffice's types.rdb) or None when the SDK tool is not installed."""
    tool = shutil.which("unoidl-write") or next((p for p in TOOL_PLACES if os.path.exists(p)), None)
    types = next((p for p in TYPES_PLACES if os.path.exists(p)), None)
    return (tool, types) if tool and types else None


def compile_idl(idl_text, output):
    """Compile IDL text to a type library at ``output`` with unoidl-write."""
    found = unoidl_write()
    if not found:
        raise RuntimeError("unoidl-write not found — apt-get install libreoffice-dev")
    tool, types = found
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "XAtlas.idl"
        source.write_text(idl_text, encoding="utf-8")
        done = subprocess.run([tool, types, str(source), str(output)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"unoidl-write failed: {(done.stderr or done.stdout).strip()}")
    return Path(output)


def main():
    text = spec.idl()
    package.IDL.write_text(text, encoding="utf-8")
    compile_idl(text, package.RDB)
    print(f"wrote {package.IDL} and {package.RDB}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
