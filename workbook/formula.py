"""Excel formula text → a small syntax tree (openpyxl's tokenizer, then precedence climbing).

Nodes are tuples: ("num", x) ("str", s) ("bool", b) ("err", code) ("missing",)
("ref", sheet, r1, c1, r2, c2) with 1-based bounds (0 for a whole column/row side), ("name", NAME),
("fn", NAME, [args]), ("op", symbol, left, right), ("neg", x), ("pct", x), ("array", rows).
Anything the engine cannot evaluate — a structured table reference, an external workbook, an
unknown construct — raises `Unsupported` with a reason a user can act on.
"""
from __future__ import annotations

import re

from openpyxl.formula import Tokenizer
from openpyxl.utils import column_index_from_string

INFIX = {  # Excel operator precedence, low to high
    "=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1,
    "&": 2,
    "+": 3, "-": 3,
    "*": 4, "/": 4,
    "^": 5,
}
PREFIX_PRECEDENCE = 7  # Excel: -2^2 = 4, negation binds tighter than ^
PERCENT_PRECEDENCE = 6

CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
COLUMN = re.compile(r"^\$?([A-Za-z]{1,3})$")
ROW = re.compile(r"^\$?(\d+)$")
MAX_ROW, MAX_COL = 1_048_576, 16_384


class Unsupported(Exception):
    """A formula the engine cannot evaluate; the message says why."""


def split_sheet(text):
    """'My Sheet'!A1:B2 → ("My Sheet", "A1:B2"); A1 → (None, "A1")."""
    if "!" not in text:
        return None, text
    sheet, _, ref = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, ref


def parse_reference(text, default_sheet=None):
    """A range operand → ("ref", sheet, r1, c1, r2, c2), or ("name", NAME) for a defined name."""
    if "[" in text:
        if text.lstrip("'").startswith("[") or ("!" in text and "]" in text.split("!")[0]):
            raise Unsupported(f"external workbook reference {text} is not followed")
        raise Unsupported(f"structured table reference {text} — use a defined name or A1 range instead")
    sheet, ref = split_sheet(text)
    parts = ref.split(":")
    if len(parts) > 2:
        raise Unsupported(f"reference {text} is not supported")
    bounds = []
    for part in parts:
        if m := CELL.match(part):
            bounds.append((int(m.group(2)), column_index_from_string(m.group(1).upper())))
        elif len(parts) == 2 and (m := COLUMN.match(part)):  # A:A (a bare "GPU" is a name)
            bounds.append((0, column_index_from_string(m.group(1).upper())))
        elif len(parts) == 2 and (m := ROW.match(part)):  # 1:1
            bounds.append((int(m.group(1)), 0))
        elif len(parts) == 1 and sheet is None and re.match(r"^[A-Za-z_\\][\w.\\]*$", part):
            return ("name", part.upper())
        else:
            raise Unsupported(f"reference {text} is not supported")
    (r1, c1), (r2, c2) = bounds[0], bounds[-1]
    if (r1 == 0) != (r2 == 0) or (c1 == 0) != (c2 == 0):
        raise Unsupported(f"reference {text} mixes a cell with a whole row or column")
    r1, r2 = sorted((r1, r2)) if r1 else (0, 0)
    c1, c2 = sorted((c1, c2)) if c1 else (0, 0)
    return ("ref", sheet or default_sheet, r1, c1, r2, c2)


def function_name(text):
    """'_xlfn._xlws.SORT(' → 'SORT'; '_xludf.ATLAS_COST(' → 'ATLAS_COST'."""
    name = text.rstrip("(").upper()
    for prefix in ("_XLFN._XLWS.", "_XLFN.", "_XLUDF.", "_XLWS."):
        if name.startswith(prefix):
            name = name[len(prefix):]
    if "!" in name:
        raise Unsupported(f"function {text.rstrip('(')} lives in another workbook or add-in file — "
                          "import the functions into this workbook")
    return name


class _Parser:
    def __init__(self, text, sheet):
        try:
            tokens = Tokenizer(text).items
        except Exception as error:  # openpyxl raises TokenizerError and friends
            raise Unsupported(f"cannot parse the formula: {error}") from None
        self.tokens = [t for t in tokens if t.type != "WHITE-SPACE"]
        self.pos = 0
        self.sheet = sheet

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def parse(self):
        if not self.tokens:
            return ("missing",)
        node = self.expression(0)
        if self.peek() is not None:
            raise Unsupported(f"unexpected '{self.peek().value}' in the formula")
        return node

    def expression(self, minimum):
        left = self.unary()
        while True:
            token = self.peek()
            if token is None:
                return left
            if token.type == "OPERATOR-POSTFIX":
                self.take()
                left = ("pct", left)
                continue
            if token.type != "OPERATOR-INFIX" or token.value not in INFIX:
                if token.type == "OPERATOR-INFIX":
                    raise Unsupported(f"operator '{token.value}' is not supported")
                return left
            precedence = INFIX[token.value]
            if precedence < minimum:
                return left
            self.take()
            right = self.expression(precedence + 1)  # every Excel infix operator is left-associative
            left = ("op", token.value, left, right)

    def unary(self):
        token = self.take()
        if token is None:
            raise Unsupported("the formula ends too early")
        if token.type == "OPERATOR-PREFIX":
            operand = self.expression(PREFIX_PRECEDENCE)
            return ("neg", operand) if token.value == "-" else operand
        if token.type == "OPERAND":
            return self.operand(token)
        if token.type == "PAREN" and token.subtype == "OPEN":
            node = self.expression(0)
            close = self.take()
            if close is None or close.type != "PAREN":
                raise Unsupported("missing ')'")
            return node
        if token.type == "FUNC" and token.subtype == "OPEN":
            return self.function(token)
        if token.type == "ARRAY" and token.subtype == "OPEN":
            return self.array()
        raise Unsupported(f"unexpected '{token.value}' in the formula")

    def operand(self, token):
        if token.subtype == "NUMBER":
            return ("num", float(token.value))
        if token.subtype == "TEXT":
            return ("str", token.value[1:-1].replace('""', '"'))
        if token.subtype == "LOGICAL":
            return ("bool", token.value.upper() == "TRUE")
        if token.subtype == "ERROR":
            return ("err", token.value.upper())
        return parse_reference(token.value, self.sheet)

    def function(self, token):
        name = function_name(token.value)
        args = []
        if self.peek() is not None and self.peek().type == "FUNC" and self.peek().subtype == "CLOSE":
            self.take()
            return ("fn", name, args)
        while True:
            nxt = self.peek()
            if nxt is not None and nxt.type == "SEP" and nxt.subtype == "ARG":
                args.append(("missing",))
            elif nxt is not None and nxt.type == "FUNC" and nxt.subtype == "CLOSE":
                args.append(("missing",))
            else:
                args.append(self.expression(0))
            sep = self.take()
            if sep is None:
                raise Unsupported(f"missing ')' after {name}(")
            if sep.type == "FUNC" and sep.subtype == "CLOSE":
                return ("fn", name, args)
            if not (sep.type == "SEP" and sep.subtype == "ARG"):
                raise Unsupported(f"unexpected '{sep.value}' in the arguments of {name}")

    def array(self):
        rows, row = [], []
        while True:
            token = self.take()
            if token is None:
                raise Unsupported("missing '}'")
            if token.type == "ARRAY" and token.subtype == "CLOSE":
                rows.append(row)
                return ("array", rows)
            if token.type == "SEP":
                if token.subtype == "ROW":
                    rows.append(row)
                    row = []
                continue
            if token.type == "OPERATOR-PREFIX" and token.value == "-":
                value = self.take()
                row.append(-float(value.value))
                continue
            node = self.operand(token)
            row.append(node[1] if node[0] in ("num", "str", "bool") else None)


def parse(text, sheet=None):
    """Parse formula text (with or without the leading '=') into a tree."""
    text = text if text.startswith("=") else "=" + text
    return _Parser(text, sheet).parse()


def references(node):
    """Every ("ref" ...) and ("name" ...) node in a tree (the formula's static precedents)."""
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        kind = current[0]
        if kind in ("ref", "name"):
            found.append(current)
        elif kind == "fn":
            stack.extend(current[2])
        elif kind == "op":
            stack.extend(current[2:])
        elif kind in ("neg", "pct"):
            stack.append(current[1])
    return found
