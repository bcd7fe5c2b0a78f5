"""``sam-verify list``: the theorems of the registry (``theorems.REGISTRY``), in report order."""
from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("list", help="list the theorems (the registry the report and pytest read)",
                       description="List every theorem of the registry: its name (for "
                       "'report --only' and theorems.REGISTRY[name].certify), whether its certify "
                       "takes an objective or a fixed model's parameters, its label and title.")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def rows() -> list[dict]:
    """One row per registry entry, in report order."""
    from ..report.build import registry
    entries = sorted(registry().values(), key=lambda e: (e.order, e.name))
    return [{"name": e.name, "kind": e.kind, "theorem": e.theorem, "title": e.title,
             "quick": e.quick, "examples": e.examples} for e in entries]


def run(args) -> int:
    table = rows()
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    for r in table:
        print(f"{r['name']:22s} {r['kind']:9s} {r['theorem']}: {r['title']}")
    return 0
