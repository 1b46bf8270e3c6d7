"""Catalog commands: catalog (list, validate, export) and prices (stale, import)."""
from __future__ import annotations

import math
from pathlib import Path

from atlas_xl import prices
from atlas_xl.catalog import SCHEMAS, load_catalog
from atlas_xl.errors import InputError
from atlas_xl_cli.options import arg, command, max_price_age_option
from atlas_xl_cli.output import emit_frame, price_warnings, short


@command("catalog", "List, validate or export the catalogs.",
         "examples:\n  atlas-xl catalog list\n  atlas-xl catalog list offerings --csv\n"
         "  atlas-xl catalog validate --catalog my_catalogs/\n  atlas-xl catalog export my_catalogs/")
@arg("action", choices=["list", "validate", "export"])
@arg("table", nargs="?", help="list: one table to print in full")
@arg("directory", nargs="?", help="export: the folder to write")
@arg("--force", action="store_true", help="export: overwrite existing CSV files")
def cmd_catalog(args):
    if args.action == "export" and args.table and not args.directory:  # `catalog export DIR`
        args.directory, args.table = args.table, None
    catalog = load_catalog(args.catalog)
    if args.action == "validate":
        counts = ", ".join(f"{len(f)} {n}" for n, f in catalog.tables.items())
        print(f"catalog OK: {counts} (fingerprint {catalog.fingerprint})")
    elif args.action == "list":
        if args.table:
            table = args.table
            if table not in SCHEMAS:
                raise InputError(f"unknown catalog table '{table}' — known: {', '.join(SCHEMAS)}")
            emit_frame(catalog.tables[table], args)
        else:
            for name in list(SCHEMAS) + ["platforms"]:
                print(f"{name}: {', '.join(catalog.keys(name))}")
    else:  # export
        if not args.directory:
            raise InputError("catalog export needs a folder — atlas-xl catalog export DIR")
        target = Path(args.directory)
        existing = [p.name for p in target.glob("*.csv")] if target.exists() else []
        if existing and not args.force:
            raise InputError(f"'{target}' already holds {', '.join(sorted(existing))} — "
                             "choose an empty folder or pass --force to overwrite")
        catalog.to_csv(target)
        print(f"wrote {len(SCHEMAS)} tables to {target}")


@command("prices", "Prices: list the stale ones, or import a provider's or negotiated price list.",
         "examples:\n  atlas-xl prices stale                      (prices older than 90 days, or undated)\n"
         "  atlas-xl prices stale --max-price-age-days 30\n"
         "  atlas-xl prices import quote.csv --to my_catalogs/   (then: atlas-xl rank 2B steady llama_70b "
         "--catalog my_catalogs/)\n\n"
         "quote.csv: platform,gpu,model,billing,currency,hourly,price_in_per_m_tokens,price_out_per_m_tokens,"
         "source,as_of,notes\n  acme,h100_sxm,,dedicated,EUR,1.80,,,contract ACME-2026-11,2026-11-15,\n"
         "  acme,,llama_70b,per_token,GBP,,0.40,0.60,quote of 2026-11-15,2026-11-15,\n"
         "JSON: a list of the same objects. Prices are converted to USD at the ECB rate on or before as_of\n"
         "(catalogs/fx_rates.csv).")
@arg("action", choices=["stale", "import"])
@arg("file", nargs="?", help="import: the price list (.csv or .json, with a currency column)")
@arg("--to", metavar="DIR", help="import: the catalog folder to write offerings.csv into")
@arg("--force", action="store_true", help="import: replace DIR/offerings.csv if it exists")
@max_price_age_option
def cmd_prices(args):
    if args.action == "import":
        if not args.file or not args.to:
            raise InputError("prices import needs a price list and a folder — atlas-xl prices import FILE --to DIR")
        target, count, replaced, fx_lines = prices.import_price_list(args.file, args.to, args.catalog,
                                                                     overwrite=args.force,
                                                                     max_age_days=args.max_price_age_days)
        price_warnings(fx_lines)
        print(f"wrote {target}: {count} imported price{'s' if count != 1 else ''} in USD"
              + (f", replacing {replaced} row{'s' if replaced != 1 else ''} of the same offering" if replaced else ""))
        return
    frame = prices.stale_prices(args.catalog, max_age_days=args.max_price_age_days)
    if args.json or args.csv:
        emit_frame(frame, args)
        return
    limit = prices.max_age(args.max_price_age_days)
    if frame.empty:
        print(f"every price is at most {limit:g} days old")
        return
    frame["age_days"] = ["undated" if math.isnan(v) else f"{v:.0f}" for v in frame.age_days]
    frame["source"] = [short(str(v), 60) for v in frame.source]
    print(frame.to_string(index=False))
    print(f"\n{len(frame)} prices older than {limit:g} days or undated — check them with the provider, then "
          "update the catalog row (source, as_of)")


COMMANDS = (cmd_catalog, cmd_prices)
