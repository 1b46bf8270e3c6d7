"""atlas_xl — plan and simulate LLM serving and training infrastructure.

The planner (``plan``, ``rank``) turns traffic into GPU counts, monthly cost per platform and cost
per million tokens. The simulator (``simulate``, ``run_schedule``, ``optimize``, ``queueing``)
models throughput, latency with G/G/m queueing, power and cost of one configuration. Both read
sourced CSV catalogs (``load_catalog``).
"""
from .catalog import Catalog, load_catalog
from .errors import AtlasError, CatalogError, InputError, UnknownNameError
from . import queueing
from .optimizer import optimize
from .planner import Assumptions, PlanResult, plan, rank
from .schedule import run_schedule
from .simulator import Record, simulate

__version__ = "0.1.0"

__all__ = [
    "AtlasError", "Assumptions", "Catalog", "CatalogError", "InputError", "PlanResult", "Record",
    "UnknownNameError", "__version__", "load_catalog", "optimize", "plan", "queueing", "rank",
    "run_schedule", "simulate",
]
