"""Generated hostile and careless inputs, one generator per interface, and the one way to judge
what the code did with them. Used by tests/test_fuzz.py (a few hundred cases, fixed seeds) and by
benchmarks/fuzz_long.py (≥ 10 000 per interface).

Every case ends in one of:

- ``refused``: an AtlasError (or the CLI's exit 1/2) whose message is one line per problem,
- ``success``: a result, checked for sanity (finite numbers, strict JSON),
- ``traceback``: anything else — an exception that is not ours, the CLI's "internal error" (exit
  3), a multi-line message, or a success whose result is not sane.

Hangs and memory are measured by the caller (fuzz_long.py) around `run_case`.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import random
import shutil
import string
import zipfile
from pathlib import Path

from atlas_xl.errors import AtlasError

INTERFACES = ("cli", "catalog", "yaml", "archive")

EDGE_NUMBERS = ["0", "-0", "-1", "1e308", "-1e308", "1e400", "5e-324", "1e-300", "nan", "NaN", "inf", "-inf",
                "Infinity", ".inf", ".nan", "1,5", "1,500", "2,000,000", "2.5", "1e15", "1e16", "9" * 400,
                "\u0662", "\u0662B", "\uff12", "2B", "500M", "-2B", "1.5k", "2 billion", "0x10", "1_000",
                "", " ", "true", "FALSE", "2026-01-31", "2026-02-30", "1e", "e9", "--", "-", "+", ".", "١٢٣"]
EDGE_TEXT = ["", " ", "a\x07b", "\x00", "runpod", "llama_70b", "steady", "ÿ", "🙂", "x" * 40_000,
             "=1+1", "'", '"', "a;b", "a,b", "\n", "\t", "../../etc/passwd", "CON", "null"]


def _token(rng):
    pick = rng.random()
    if pick < 0.45:
        return rng.choice(EDGE_NUMBERS)
    if pick < 0.7:
        return rng.choice(EDGE_TEXT)
    return "".join(rng.choice(string.printable + "éß٢\u200b") for _ in range(rng.randint(0, 12)))


# -- CLI -------------------------------------------------------------------------------------------
OPTIONS = {
    "plan": ["--gpu", "--gpu-count", "--gpu-tokens-per-s", "--hourly-usd", "--price-per-m-tokens", "--billing",
             "--latency-ms", "--json", "--csv", "--catalog"],
    "rank": ["--platform", "--top", "--latency-ms", "--json", "--csv", "--precision", "--input-tokens",
             "--ttft-ms"],
    "simulate": ["--knob", "--set", "--seed", "--usd-per-kwh", "--pue", "--json", "--name", "--hardware"],
    "schedule": ["--knob", "--set", "--seed", "--json"],
    "estimate": ["--tp", "--precision", "--input-tokens", "--output-tokens", "--ttft-ms", "--tpot-ms", "--json"],
    "forecast": ["--months", "--growth", "--price-change", "--gpu-count", "--start", "--json"],
    "catalog": [],
}
FLAGS = {"--json", "--csv"}
VALID = {
    "plan": ["2B", "steady", "llama_70b", "runpod", "--gpu", "h100_sxm"],
    "rank": ["2B", "steady", "llama_70b"],
    "simulate": ["nvidia_h100_8x_nvlink", "llama_70b_chat"],
    "schedule": ["nvidia_h100_8x_nvlink", "llama_70b_chat"],
    "estimate": ["llama_70b", "h100_sxm"],
    "forecast": ["2B", "steady", "llama_70b", "together"],
    "catalog": ["list"],
}
KEYS = ["parallelism.dp", "parallelism.tp", "sequence.prompt", "runtime_tuning.microbatch", "arrival.cs2",
        "microbatch", "cuda_graphs", "fabric", "virt", "foo", "", "mode", "arrival.requests_per_sec"]


def cli_case(rng):
    """An argv: a valid command line with some tokens replaced, options added or values mangled."""
    command = rng.choice(list(VALID))
    argv = list(VALID[command])
    for _ in range(rng.randint(0, 3)):
        action = rng.random()
        if action < 0.4 and argv:
            argv[rng.randrange(len(argv))] = _token(rng)
        elif action < 0.8 and OPTIONS[command]:
            option = rng.choice(OPTIONS[command])
            if option in FLAGS:
                argv.append(option)
            elif option in ("--knob", "--set"):
                argv += [option, f"{rng.choice(KEYS)}={_token(rng)}"]
            else:
                argv += [option, _token(rng)]
        elif argv:
            del argv[rng.randrange(len(argv))]
    if command == "catalog" and rng.random() < 0.5:
        argv += [rng.choice(["offerings", "gpus", "validate", "nope", _token(rng)])]
    return [command] + argv


def run_cli(argv):
    import atlas_xl_cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = atlas_xl_cli.main(list(argv))
        except SystemExit as exit_:
            code = exit_.code
    lines = err.getvalue().splitlines()
    if code == 0:
        if "--json" in argv:
            try:
                json.loads(out.getvalue(), parse_constant=_reject_constant)
            except ValueError as error:
                return "traceback", f"--json output is not strict JSON: {error}"
        return "success", ""
    if code in (1, 2):
        errors = [line for line in lines if "error:" in line]
        if errors and all(line.startswith("atlas-xl") and "Traceback" not in line for line in lines):
            if code == 2 and len(errors) != 1:
                return "traceback", f"usage error of {len(errors)} lines"
            return "refused", errors[0]
        return "traceback", f"exit {code} without a one-line error: {err.getvalue()[:300]!r}"
    return "traceback", f"exit {code}: {err.getvalue()[:300]}"


def _reject_constant(name):
    raise ValueError(f"{name} in JSON")


# -- catalog folders -------------------------------------------------------------------------------
def _builtin_files():
    from atlas_xl import catalog

    root = catalog._builtin_dir()
    return {name: (root / file).read_bytes() for name, file in catalog.FILES.items()}


_BUILTIN = None


def catalog_case(rng):
    """{file name: bytes} for a folder: one or two built-in tables, mutated."""
    global _BUILTIN
    if _BUILTIN is None:
        _BUILTIN = _builtin_files()
    names = rng.sample(["offerings", "throughput", "gpus", "models", "patterns", "targets", "workloads"],
                       rng.randint(1, 2))
    folder = {}
    for name in names:
        data = _BUILTIN[name]
        for _ in range(rng.randint(1, 3)):
            data = _mutate_csv(rng, data)
        folder[f"{name}.csv"] = data
    return folder


def _mutate_csv(rng, data):
    text = data.decode("utf-8", "replace")
    lines = text.splitlines()
    if len(lines) < 2:  # already cut to nothing: vary it a little and stop
        return rng.choice([b"", data, data + data, data + b"\n" + data])
    action = rng.randrange(14)
    if action == 0:  # flip bytes
        raw = bytearray(data)
        for _ in range(rng.randint(1, 5)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    if action == 1:
        return text.encode(rng.choice(["latin-1", "utf-16", "utf-16-le", "cp1252", "utf-8-sig"]), "replace")
    if action == 2:
        return data[:rng.randrange(len(data) + 1)]
    if action == 3:
        return lines[0].encode() + b"\n" if rng.random() < 0.5 else b""
    if action == 4:  # semicolons
        return text.replace(",", ";").encode()
    if action == 5:  # ragged row
        i = rng.randrange(1, len(lines))
        lines[i] = ",".join(lines[i].split(",")[:rng.randint(0, 4)])
        return "\n".join(lines).encode()
    if action == 6:  # unbalanced quote
        i = rng.randrange(1, len(lines))
        lines[i] = lines[i].replace(",", ',"', 1)
        return "\n".join(lines).encode()
    if action in (7, 8, 9, 10):  # one cell replaced by an edge value
        import csv
        try:
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:
            return data
        if len(rows) < 2 or not rows[0]:
            return data
        row, column = rng.randrange(1, len(rows)), rng.randrange(len(rows[0]))
        if column < len(rows[row]):
            value = rng.choice(EDGE_NUMBERS + EDGE_TEXT[:12])
            rows[row][column] = value
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue().encode("utf-8", "surrogatepass")
    if action == 11:  # duplicate a row (duplicate key)
        i = rng.randrange(1, len(lines))
        lines.insert(i, lines[i])
        return "\n".join(lines).encode()
    if action == 12:  # drop or rename a column of the header
        header = lines[0].split(",")
        header[rng.randrange(len(header))] = rng.choice(["", "x", "gpu", "GPU ", "tokens per s"])
        lines[0] = ",".join(header)
        return "\n".join(lines).encode()
    return ("\n".join(lines) + "\n" + "\n".join(rng.choice(lines[1:]) for _ in range(rng.randint(1, 50)))).encode()


def run_catalog(folder, directory):
    from atlas_xl import load_catalog, rank

    directory = Path(directory)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for name, data in folder.items():
        (directory / name).write_bytes(data)
    try:
        cat = load_catalog(directory)
        table = rank(2e9, "steady", "llama_70b", catalog=cat)
    except AtlasError as error:
        return _judge_error(error)
    costs = table["monthly_cost_usd"].tolist() if len(table) else []
    if not all(math.isfinite(c) for c in costs):
        return "traceback", f"non-finite monthly cost from an accepted catalog: {costs[:3]}"
    return "success", ""


def _judge_error(error):
    lines = str(error).splitlines()
    if not lines or any(not line.strip() for line in lines):
        return "traceback", f"empty or ragged message: {str(error)!r}"
    return "refused", lines[0]


# -- scenario / spec YAML ----------------------------------------------------------------------------
SCENARIO_KEYS = ["title", "workload", "offerings", "simulator", "schedule", "sweep", "top", "seed",
                 "tokens_per_day", "pattern", "model", "latency_ms", "knobs", "usd_per_kwh", "pue", "junk"]
INNER = {"workload": ["tokens_per_day", "pattern", "model", "latency_ms", "junk"],
         "simulator": ["target", "workload", "knobs", "seed", "usd_per_kwh", "pue", "junk"]}
YAML_VALUES = [".inf", "-.inf", ".nan", "2e9", "2B", "1,5", "2026-01-31", "2026-01-31T10:00:00", "[1, 2]",
               "{a: 1}", "abc", "''", "null", "~", "true", "5", "-5", "0", "1e400", "9" * 400, "!!binary aGk=",
               "!!set {a, b}", "!!python/object/apply:os.system [echo]", '"a\\x07b"', "[runpod, together]",
               "steady", "llama_70b", "{cuda_graphs: true}", "abc: def: g", "'unterminated", "*nope", "&a 1"]


def yaml_case(rng):
    """The text of a scenario file: a mapping of real and junk keys with edge values, sometimes an
    alias bomb, deep nesting or bytes that are not UTF-8."""
    special = rng.random()
    if special < 0.04:
        levels, width = rng.randint(3, 12), rng.randint(2, 12)
        lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
        return ("\n".join(lines) + "\n").encode()
    if special < 0.08:
        depth = rng.choice([10, 40, 1000, 20000])
        return ("title: " + "[" * depth + "]" * depth + "\n").encode()
    if special < 0.11:
        return "title: café\n".encode(rng.choice(["latin-1", "utf-16", "cp1252"]))
    if special < 0.13:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
    lines = []
    for key in rng.sample(SCENARIO_KEYS, rng.randint(0, 6)):
        if key in INNER and rng.random() < 0.7:
            inner = ", ".join(f"{k}: {rng.choice(YAML_VALUES)}" for k in rng.sample(INNER[key], rng.randint(1, 3)))
            lines.append(f"{key}: {{{inner}}}")
        else:
            lines.append(f"{key}: {rng.choice(YAML_VALUES)}")
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


def run_yaml(data, path):
    from atlas_xl.files import read_spec
    from workbook.reports import scenario_from

    path = Path(path)
    path.write_bytes(data)
    try:
        scenario = scenario_from(read_spec(path, "scenario") or {})
        for name in ("tokens_per_day", "latency_ms", "usd_per_kwh", "pue"):
            value = getattr(scenario, name)
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)):
                return "traceback", f"scenario {name} = {value!r} accepted"
    except AtlasError as error:
        return _judge_error(error)
    return "success", ""


# -- workbook archives -----------------------------------------------------------------------------
def base_workbook(path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Inputs"
    for row in range(1, 30):
        sheet.cell(row=row, column=1, value=row * 1.5)
        sheet.cell(row=row, column=2, value=f"=A{row}*2")
        sheet.cell(row=row, column=3, value=f"text {row}")
    sheet["D1"] = "=SUM(B1:B29)"
    book.create_sheet("Other")["A1"] = "=Inputs!D1+1"
    book.save(path)
    return Path(path).read_bytes()


def archive_case(rng, base):
    """Bytes of a workbook: the base one with its zip or its XML damaged or inflated."""
    action = rng.randrange(12)
    if action == 0:  # flipped bytes anywhere
        raw = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        return bytes(raw)
    if action == 1:  # truncated
        return base[:rng.randrange(len(base))]
    parts = _parts(base)
    name = rng.choice([n for n in parts if n.endswith(".xml")])
    if action == 2:  # compression method changed in the headers
        return _with_method(base, rng.choice([1, 6, 9, 12, 14, 97, 98, 99]))
    if action in (3, 4, 5):  # XML text mutations
        xml = parts[name].decode("utf-8")
        for _ in range(rng.randint(1, 4)):
            with contextlib.suppress(ValueError, IndexError):  # a mutation that does not apply
                xml = rng.choice(XML_MUTATIONS)(rng, xml)
        parts[name] = xml.encode("utf-8", "surrogatepass")
    elif action == 6:  # duplicate sheet name
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b'name="Other"', rng.choice(
            [b'name="Inputs"', b'name="inputs"', b'name=""']))
    elif action == 7:  # big on purpose, scaled down: many compressible parts
        filler = b"<x>" + b" " * rng.choice([10_000, 1_000_000, 3_900_000]) + b"</x>"
        for i in range(rng.randint(1, 8)):
            parts[f"xl/media/p{i}.xml"] = filler
    elif action == 8:  # a part removed
        parts.pop(name)
    elif action == 9:  # a huge text node
        parts["xl/sharedStrings.xml"] = b"<sst><si><t>" + b"a" * rng.choice([1000, 2_000_000]) + b"</t></si></sst>"
    elif action == 10:  # entity declarations
        parts[name] = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + parts[name].split(b"?>", 1)[-1]
    else:  # junk part names
        parts[rng.choice(["../evil.xml", "/abs.xml", "xl/worksheets/sheet9.xml", "a" * 300])] = b"<x/>"
    return _zip(parts)


def _parts(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info.filename) for info in archive.infolist()}


def _zip(parts):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _with_method(data, method):
    raw = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        position = raw.find(signature)
        while position >= 0:
            raw[position + offset:position + offset + 2] = method.to_bytes(2, "little")
            position = raw.find(signature, position + 4)
    return bytes(raw)


def _replace_attr(rng, xml):
    for attribute in ('r="', 't="', 's="', 'name="', 'sheetId="', 'ref="'):
        if attribute in xml and rng.random() < 0.5:
            start = xml.index(attribute) + len(attribute)
            end = xml.index('"', start)
            return xml[:start] + rng.choice(["55.0", "", "-1", "0", "A", "ZZZZ9", "1e9", "9" * 30, "A1:B2", "s", "e",
                                             "str", "inlineStr", "b", "n", "d"]) + xml[end:]
    return xml


def _drop_attr(rng, xml):
    for attribute in (' r="', ' t="', ' s="'):
        if attribute in xml:
            start = xml.index(attribute)
            end = xml.index('"', start + len(attribute))
            return xml[:start] + xml[end + 1:]
    return xml


def _cut(rng, xml):
    start = rng.randrange(len(xml))
    return xml[:start] + xml[start + rng.randint(1, 50):]


def _swap_value(rng, xml):
    if "<v>" in xml:
        start = xml.index("<v>") + 3
        end = xml.index("</v>", start)
        return xml[:start] + rng.choice(["nan", "inf", "1e400", "", "abc", "#N/A", "9" * 400, "1,5", "-0"]) + xml[end:]
    return xml


def _duplicate(rng, xml):
    if "<row" in xml:
        start = xml.index("<row")
        end = xml.index("</row>", start) + 6
        return xml[:end] + xml[start:end] + xml[end:]
    return xml


def _nest(rng, xml):
    depth = rng.choice([10, 200, 5000])
    return xml.replace("</sheetData>", "<x>" * depth + "</x>" * depth + "</sheetData>", 1)


XML_MUTATIONS = (_replace_attr, _drop_attr, _cut, _swap_value, _duplicate, _nest)


def run_archive(data, path, output):
    from workbook.recalculate import recalc

    path, output = Path(path), Path(output)
    path.write_bytes(data)
    with contextlib.suppress(FileNotFoundError):
        output.unlink()
    try:
        recalc(path, output=output if data[-1:] != b"\0" else None)
    except AtlasError as error:
        return _judge_error(error)
    if output.exists():
        try:
            with zipfile.ZipFile(output) as archive:
                if archive.testzip() is not None:
                    return "traceback", "the written workbook is damaged"
        except zipfile.BadZipFile:
            return "traceback", "the written workbook is not a zip"
    return "success", ""


def generator(interface, seed, workdir):
    """Endless (case, run) pairs for one interface; ``run()`` returns (outcome, detail)."""
    rng = random.Random(seed)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if interface == "cli":
        while True:
            argv = cli_case(rng)
            yield argv, (lambda argv=argv: run_cli(argv))
    elif interface == "catalog":
        while True:
            folder = catalog_case(rng)
            yield sorted(folder), (lambda folder=folder: run_catalog(folder, workdir / "catalog"))
    elif interface == "yaml":
        while True:
            data = yaml_case(rng)
            yield data[:80], (lambda data=data: run_yaml(data, workdir / "scenario.yaml"))
    elif interface == "archive":
        base = base_workbook(workdir / "base.xlsx")
        while True:
            data = archive_case(rng, base)
            yield len(data), (lambda data=data: run_archive(data, workdir / "case.xlsx", workdir / "out.xlsx"))
    else:
        raise ValueError(interface)
