"""Write the .oxt: component, type library, Function Wizard help and the site-path file."""
from __future__ import annotations

import io
import os
import site
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import atlas_xl
from calc_addin import spec

HERE = Path(__file__).resolve().parent
RDB = HERE / "atlas_xl.rdb"
IDL = HERE / "XAtlas.idl"
SITE_FILE = "atlas_xl_site.txt"
SITE_VARIABLE = "ATLAS_XL_SITE"
"""Environment variable (os.pathsep-separated folders) that overrides the .oxt's site file."""


def site_dirs():
    """The folders LibreOffice's Python must add to find this atlas_xl, numpy and pandas: the
    site-packages of the running interpreter (processed like site-packages, so editable installs'
    .pth files work) and the folder holding the atlas_xl and udfs packages."""
    folders = [*site.getsitepackages(), site.getusersitepackages()]
    import numpy
    import pandas
    import udfs
    for module in (atlas_xl, udfs, numpy, pandas):
        folders.append(str(Path(module.__file__).resolve().parents[1]))
    unique = []
    for folder in folders:
        if folder not in unique and os.path.isdir(folder):
            unique.append(folder)
    return unique


def _xcu(functions):
    def prop(name, text):
        return (f'<prop oor:name="{name}"><value xml:lang="en-US">{escape(text)}</value></prop>')

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<oor:component-data xmlns:oor="http://openoffice.org/2001/registry" '
           'xmlns:xs="http://www.w3.org/2001/XMLSchema" oor:name="CalcAddIns" oor:package="org.openoffice.Office">',
           '<node oor:name="AddInInfo">',
           f'<node oor:name={quoteattr(spec.SERVICE)} oor:op="replace">',
           '<node oor:name="AddInFunctions">']
    for function in functions:
        out.append(f'<node oor:name="{function.name}" oor:op="replace">')
        out.append(prop("DisplayName", function.name))
        out.append(prop("Description", function.description))
        out.append('<prop oor:name="Category"><value>Add-In</value></prop>')
        # the name the function has in Excel files: ATLAS_COST(...) in an .xlsx binds to it on import
        out.append(prop("CompatibilityName", function.name))
        out.append('<node oor:name="Parameters">')
        for argument, help_text in function.arguments:
            out.append(f'<node oor:name="{spec.uno_name(argument)}" oor:op="replace">{prop("DisplayName", argument)}'
                       f'{prop("Description", help_text)}</node>')
        out.append("</node></node>")
    out += ["</node></node></node></oor:component-data>", ""]
    return "\n".join(out)


MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="http://openoffice.org/2001/manifest">
 <manifest:file-entry manifest:full-path="atlas_xl.rdb" manifest:media-type="application/vnd.sun.star.uno-typelibrary;type=RDB"/>
 <manifest:file-entry manifest:full-path="component.py" manifest:media-type="application/vnd.sun.star.uno-component;type=Python"/>
 <manifest:file-entry manifest:full-path="CalcAddIns.xcu" manifest:media-type="application/vnd.sun.star.configuration-data"/>
</manifest:manifest>
"""


def _description():
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<description xmlns="http://openoffice.org/extensions/description/2006" xmlns:xlink="http://www.w3.org/1999/xlink">
 <identifier value="org.atlasxl.calc"/>
 <version value="{escape(atlas_xl.__version__)}"/>
 <display-name><name lang="en">atlas_xl: ATLAS_* functions for LibreOffice Calc</name></display-name>
 <platform value="all"/>
 <dependencies><OpenOffice.org-minimal-version xmlns:d="http://openoffice.org/extensions/description/2006" d:name="LibreOffice 7.0" value="4.0"/></dependencies>
</description>
"""


def build_oxt(path, site=None):
    """Write the extension to ``path`` (atomically; replaced if it exists — a generated file) and
    return it. ``site``: the folders written into its site file (default: `site_dirs`)."""
    functions = spec.all_functions()
    parts = {
        "META-INF/manifest.xml": MANIFEST,
        "description.xml": _description(),
        "CalcAddIns.xcu": _xcu(functions),
        "component.py": (HERE / "component.py").read_text(encoding="utf-8"),
        SITE_FILE: "\n".join(site if site is not None else site_dirs()) + "\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.openofficeorg.extension", compress_type=zipfile.ZIP_STORED)
        for name, text in parts.items():
            archive.writestr(name, text.encode("utf-8"))
        archive.writestr("atlas_xl.rdb", RDB.read_bytes())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_bytes(buffer.getvalue())
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()
    return path
