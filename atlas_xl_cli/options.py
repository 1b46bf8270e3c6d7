"""How a command is declared: argparse types, shared option groups defined once, and the decorators that
stack them over a handler (as sqlite-utils stacks click options):

    @command("plan", "Plan one workload on one platform.", PLAN_EXAMPLES)
    @workload_options                 # tokens_per_day pattern model --latency-ms --tp, serving options
    @arg("platform", help="platform key, e.g. runpod, fireworks, together")
    def cmd_plan(args): ...

Option decorators read top to bottom in the order argparse gets the arguments (positionals first come
first); `command` must be the outermost. ``atlas_xl_cli.parser`` builds the parser from the commands.
"""
from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass

from atlas_xl import arguments, values
from atlas_xl.errors import AtlasError, InputError
from atlas_xl.files import read_spec


# -- argparse types: the value parser's rules and messages (atlas_xl.values) ---------------------------------
def parse_volume(text):
    """'2e9', '2,000,000,000', '2B', '500M' → tokens per day as a float (atlas_xl.values rules)."""
    try:
        kind = values.parse_value(text, "tokens_per_day")
        if kind is None or isinstance(kind, (str, bool, dt.date)):
            raise argparse.ArgumentTypeError(f"{values.shown(text)} is not a token volume — write e.g. 2e9, 2B or 500M")
        return float(values.parse_volume(text))
    except AtlasError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_volumes(text):
    """'2B' → one daily volume; '1B,1.5B,3B' → one daily volume per month."""
    parts = [p for p in str(text).split(",") if p.strip()] if "," in str(text) else [text]
    volumes = [parse_volume(p) for p in parts]
    return volumes if len(volumes) > 1 or "," in str(text) else volumes[0]


def parse_rate(text):
    """'5%', '0.05', '-20%' → a fraction."""
    raw = str(text).strip().replace(" ", "")
    percent = raw.endswith("%")
    try:  # the one value parser: no nan, inf, decimal commas
        rate = values.parse_number(raw[:-1] if percent else raw, "rate")
    except AtlasError:
        raise argparse.ArgumentTypeError(f"{values.shown(text)} is not a rate — write 5% or 0.05") from None
    return rate / 100.0 if percent else rate  # the range is atlas_xl.finance's to check


def _argparse_type(check, name):
    """An argparse type from one of the value parser's checks (its error → argparse's one line)."""
    def parse(text):
        try:
            return check(text, name)
        except AtlasError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    parse.__name__ = name  # argparse names the type in some messages
    return parse


def argument(name):
    """An argparse type: the value parser with the LIMITS of ``name`` (one line on error)."""
    return _argparse_type(values.parse_argument, name)


def text_argument(what):
    """An argparse type for text: control characters refused (one line)."""
    return _argparse_type(values.check_text, what)


# -- declaring commands ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    """One subcommand: its name, help, examples, handler and the argument adders stacked on it."""

    name: str
    help: str
    epilog: str
    handler: object
    adders: tuple
    data: bool = True  # prints model results: --json, --csv and --catalog

    def add_to(self, subparsers):
        """Add this command's parser to ``subparsers`` (argparse's add_subparsers())."""
        p = subparsers.add_parser(self.name, help=self.help, description=self.help, epilog=self.epilog,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        if self.data:
            out = p.add_mutually_exclusive_group()
            out.add_argument("--json", action="store_true", help="print JSON")
            out.add_argument("--csv", action="store_true", help="print CSV")
            catalog_option.add(p)
        for add in self.adders:
            add(p)
        p.set_defaults(func=self.handler)
        return p


def command(name, help_text, epilog, *, data=True):
    """Make a handler ``f(args)`` the command ``name``, with the options stacked under this decorator.

    ``epilog`` holds the examples shown by ``--help``; ``data`` adds --json, --csv and --catalog."""
    def decorate(handler):
        handler.command = Command(name, help_text, epilog, handler, getattr(handler, "adders", ()), data)
        return handler
    return decorate


class Options:
    """A decorator that stacks argument adders (functions of a parser) over a command handler."""

    def __init__(self, *adders):
        self.adders = adders

    def add(self, parser):
        """Add these arguments to ``parser`` (for a parser built by hand)."""
        for add in self.adders:
            add(parser)

    def __call__(self, handler):
        handler.adders = (*self.adders, *getattr(handler, "adders", ()))
        return handler


def arg(*names, **kwargs):
    """One argument, as argparse's add_argument takes it, to stack over a handler."""
    return Options(lambda parser: parser.add_argument(*names, **kwargs))


def registered(name, *flags, **overrides):
    """The option of the registry's argument ``name`` (`atlas_xl.arguments`): its help with units and default,
    its choices, and for numbers the value parser with its bounds — the same words and limits as every other
    entrance. ``flags`` default to ``--name-with-dashes``; ``overrides`` replace any of argparse's keywords."""
    spec = arguments.get(name)
    kwargs = spec.argparse_kwargs()
    kwargs["help"] = kwargs["help"].replace("%", "%%")  # argparse formats help with %
    if spec.kind == "number":
        kwargs["type"] = argument(name)
    kwargs["dest"] = name
    kwargs.update(overrides)
    return arg(*(flags or (f"--{name.replace('_', '-')}",)), **kwargs)


def group(*options):
    """Several option decorators as one, in order."""
    return Options(*(add for option in options for add in option.adders))


def exclusive(*options):
    """Option decorators of which a command line may give one at most (argparse's mutually exclusive group)."""
    def add(parser):
        where = parser.add_mutually_exclusive_group()
        for option in options:
            option.add(where)
    return Options(add)


# -- shared options: each defined once, used by every command that takes it ----------------------------------
catalog_option = arg("--catalog", metavar="DIR", help="folder of catalog CSV files (default: built-in)")
tokens_per_day_arg = arg("tokens_per_day", type=parse_volume, help="daily token volume (2e9, 2B, 500M)")
pattern_arg = arg("pattern", help="traffic pattern: steady, business_hours, bursty")
model_arg = arg("model", help="model key, e.g. llama_70b")
platform_arg = arg("platform", help="platform key, e.g. runpod, fireworks, together")
gpu_option = arg("--gpu", help="GPU key when the platform offers several (h100_sxm)")
latency_option = registered("latency_ms")
tp_option = registered("tp")
seed_option = registered("seed", default=0)
pue_option = registered("pue")
usd_per_kwh_option = registered("usd_per_kwh", default=arguments.USD_PER_KWH)

serving_options = group(  # the serving model's precision, request shape and p99 limits
    registered("precision", choices=None),  # the serving model names the precisions it knows (one line)
    registered("input_tokens"), registered("output_tokens"), registered("ttft_ms"), registered("tpot_ms"),
)
offering_overrides = group(  # one offering's catalog values replaced
    registered("gpu_count"), registered("gpu_tokens_per_s"), registered("hourly_usd"),
    registered("price_per_m_tokens"), registered("billing"),
)
workload_options = group(tokens_per_day_arg, pattern_arg, model_arg, latency_option, tp_option, serving_options)
plan_options = group(latency_option, offering_overrides, serving_options, tp_option, pue_option,
                     *(registered(name) for name in arguments.COST_RUNNING))  # plan()'s keywords (finance commands)
plan_field_options = group(  # the finance commands that show any plan field (forecast, sensitivity): grid, warm pool
    registered("region", choices=None), registered("min_replicas"))  # the catalog's regions, which a folder may extend
SERVING_NAMES = ("precision", "input_tokens", "output_tokens", "ttft_ms", "tpot_ms")
PLAN_NAMES = ("latency_ms", "gpu_count", "gpu_tokens_per_s", "hourly_usd", "price_per_m_tokens", "billing",
              *SERVING_NAMES, "tp", *arguments.PLAN_RUNNING)


def serving_args(args):
    """The serving options of a command line as plan() and estimate() take them."""
    return {name: getattr(args, name) for name in SERVING_NAMES}


def plan_overrides(args):
    """The plan() keywords a command line gives (those left out keep plan()'s defaults; a switch left off is
    not given)."""
    given = {name: getattr(args, name, None) for name in PLAN_NAMES}
    return {name: value for name, value in given.items() if value is not None and value is not False}


force_option = arg("--force", action="store_true", help="replace OUTPUT if it exists")
output_or_in_place = exclusive(arg("-o", "--output", help="write the result here (the input stays as it is)"),
                               arg("--in-place", action="store_true", help="update FILE itself"))
max_price_age_option = registered("max_price_age_days")


# -- files named on the command line ----------------------------------------------------------------------------
def load_spec_file(path, what, name=None):
    """A target or workload from a YAML or JSON file (one mapping, or a list of them + ``name``)."""
    doc = read_spec(path, what)  # size, depth, alias, encoding and leaf checks (atlas_xl/files.py)
    if isinstance(doc, list):
        names = [str(d.get("name", "")) for d in doc if isinstance(d, dict)]
        if name is None and len(doc) == 1:
            doc = doc[0]
        else:
            found = [d for d in doc if isinstance(d, dict) and str(d.get("name", "")).lower() == str(name).lower()]
            if not found:
                raise InputError(f"{what} file '{path}' holds {len(doc)} {what}s — pass --name with one of "
                                 f"{', '.join(names)}")
            doc = found[0]
    if not isinstance(doc, dict):
        raise InputError(f"{what} file '{path}' must hold a mapping of {what} fields (like workloads.yaml)")
    return doc


def spec_or_name(value, what, name=None):
    """A catalog name, or a YAML/JSON file when the value names one."""
    if value and str(value).lower().endswith((".yaml", ".yml", ".json")):
        return load_spec_file(value, what, name)
    return value
