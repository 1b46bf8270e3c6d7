"""atlas_xl — plan and simulate LLM serving and training infrastructure.

The serving model (``estimate``) says what one replica of a model on some GPUs delivers within
latency limits, calibrated on measurements. The planner (``plan``, ``rank``) turns traffic into GPU counts, monthly cost per platform and cost
per million tokens. The simulator (``simulate``, ``run_schedule``, ``optimize``, ``queueing``)
models throughput, latency with G/G/m queueing, power and cost of one configuration. Both read
sourced CSV catalogs (``load_catalog``).
"""
from .catalog import Catalog, load_catalog
from .errors import AtlasError, CatalogError, InputError, UnknownNameError
from . import queueing, serving
from .optimizer import optimize
from .planner import Assumptions, PlanResult, plan, rank
from .schedule import run_schedule
from .record import Record
from .serving import estimate
from .simulator import simulate
from .energy import footprint
from .hybrid import hybrid
from .autoscale import scaling
from .disaggregated import estimate_disaggregated
from .finance import breakeven, breakeven_month, cost_range, forecast, pattern_from_usage, sensitivity
from .sweeps import sweep

__version__ = "0.1.0"

__all__ = [
    "AtlasError", "Assumptions", "Catalog", "CatalogError", "InputError", "PlanResult", "Record",
    "UnknownNameError", "__version__", "estimate", "load_catalog", "optimize", "plan", "queueing", "rank",
    "run_schedule", "serving", "simulate",
    # finance (issue 14)
    "breakeven", "breakeven_month", "cost_range", "forecast", "pattern_from_usage", "sensitivity", "sweep",
    # power, energy and carbon; own GPUs with an API for the peaks (issue 19)
    "footprint", "hybrid", "scaling",
    # disaggregated prefill/decode serving (issue 19 item 1)
    "estimate_disaggregated",
]
