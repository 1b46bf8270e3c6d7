"""The one exception family of atlas_xl.

Every message is one line written for the person who typed the input: it names the problem and
the way out (``unknown model 'llama70' — known: llama_8b, llama_70b``).
"""
import difflib


class AtlasError(ValueError):
    """Base of every error atlas_xl raises on purpose."""


class CatalogError(AtlasError):
    """A catalog table is malformed: missing column, duplicate key, bad value."""


class InputError(AtlasError):
    """An argument is out of range or of the wrong kind."""


class UnknownNameError(InputError, KeyError):
    """A name that is not in the catalog."""

    def __str__(self):  # KeyError would quote the message
        return self.args[0] if self.args else ""


def unknown_name(kind, name, known, where=""):
    """An `UnknownNameError` that lists close matches first, then everything known.

    ``where`` qualifies the name: ``unknown gpu 'h100' on platform 'runpod' — did you mean ...``.
    """
    known = sorted(known)
    text = str(name).strip().lower()
    prefixed = [k for k in known if text and k.startswith(text)]
    close = list(dict.fromkeys(prefixed + difflib.get_close_matches(text, known, n=3, cutoff=0.6)))[:3]
    hint = f" — did you mean {', '.join(close)}?" if close else ""
    shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(name)[:60])
    return UnknownNameError(f"unknown {kind} '{shown}'{where}{hint} — known: {', '.join(known)}")
