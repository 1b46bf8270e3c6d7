"""The ATLAS_* functions for LibreOffice Calc: a Python UNO add-in packaged as an .oxt.

    calc_addin.build_oxt(path)      write the extension (build.py does: out/atlas_xl.oxt)
    python -m calc_addin.regenerate rewrite XAtlas.idl and compile atlas_xl.rdb (needs unoidl-write)

Pieces of the extension:

* ``XAtlas.idl`` → ``atlas_xl.rdb``: the UNO interface, one method per worksheet function, every
  argument and the result of type ``any`` (so any argument may be omitted, a number, a text or a
  range, and a table result spills as an array). Generated from `udfs.functions`, compiled with
  ``unoidl-write`` (Debian ``libreoffice-dev``); both are committed, and a test checks that they
  match the functions and, where the tool is installed, that the .rdb is what the tool writes.
* ``component.py``: the UNO component. It runs inside LibreOffice's own Python (Debian
  ``python3-uno``) and calls `udfs.functions` — the same functions the xlwings add-in calls — so
  Excel and LibreOffice give the same numbers and the same one-line error texts.
* ``CalcAddIns.xcu``: display names, descriptions and argument help for the Function Wizard, and
  the compatibility names that make ``ATLAS_COST(...)`` in an .xlsx bind to the add-in on import.
* ``atlas_xl_site.txt``: where LibreOffice's Python finds atlas_xl, numpy and pandas (see
  `component.py`).
"""
from calc_addin.package import build_oxt, site_dirs

__all__ = ["build_oxt", "site_dirs"]
