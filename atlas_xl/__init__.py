"""atlas_xl — plan and simulate LLM serving and training infrastructure.

The planner (``plan``, ``rank``) turns traffic into GPU counts, monthly cost per platform and cost
per million tokens; the catalogs it reads are sourced CSV tables (``load_catalog``).
"""
from .catalog import Catalog, load_catalog
from .errors import AtlasError, CatalogError, InputError, UnknownNameError
from .planner import Assumptions, PlanResult, plan, rank

__version__ = "0.1.0"

__all__ = [
    "AtlasError", "Assumptions", "Catalog", "CatalogError", "InputError", "PlanResult",
    "UnknownNameError", "__version__", "load_catalog", "plan", "rank",
]
