"""Shared fixtures. ``office``: one warm LibreOffice (with the ATLAS_* add-in) for the whole session,
so the suite pays LibreOffice's start-up once."""
import pytest

from workbook.recalculate import Recalculator, find_office


@pytest.fixture(scope="session")
def office():
    find_office()  # fails with the one-line install hint when LibreOffice is missing
    with Recalculator(timeout=300) as engine:
        yield engine.start()
