"""`Record`: a result whose fields are read by key or by attribute."""


class Record(dict):
    """A result: a dict whose keys are also attributes (``record.p99_ms``, ``record["p99_ms"]``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None
