#!/usr/bin/env python3
"""Per-area pass/fail summary of a Robot Framework ``output.xml`` (ETSI NGSI-LD conformance runs).

Used by ``scripts/etsi-conformance``; standard library only, so it runs with any Python 3.

    etsi_summary.py OUTPUT_XML --root SUITE_DIR [--area TP/NGSI-LD/...]... [--failed] [--json FILE]

Each test is counted under the longest ``--area`` path (relative to ``--root``) that contains its
``.robot`` file; tests outside every area are counted under their top three path components.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from collections import OrderedDict
from pathlib import Path


def _rel(source: str, root: Path) -> str:
    p = Path(source)
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def _area_of(rel: str, areas: list[str]) -> str:
    best = ""
    for a in areas:
        if (rel == a or rel.startswith(a + "/")) and len(a) > len(best):
            best = a
    if best:
        return best
    parts = rel.split("/")
    return "/".join(parts[:3]) if len(parts) > 3 else rel


def _walk(suite: ET.Element, source: str, out: list[tuple[str, str, str]]) -> None:
    source = suite.get("source") or source
    for child in suite:
        if child.tag == "suite":
            _walk(child, source, out)
        elif child.tag == "test":
            st = child.find("status")
            status = st.get("status", "?") if st is not None else "?"
            out.append((source, child.get("name", "?"), status))


def summarize(output_xml: Path, root: Path, areas: list[str]) -> tuple[dict, list[dict]]:
    # output.xml is written by our own robot run, not untrusted input.
    tree = ET.parse(output_xml)  # noqa: S314
    tests: list[tuple[str, str, str]] = []
    for suite in tree.getroot().iter("robot"):
        for top in suite.findall("suite"):
            _walk(top, "", tests)
    per_area: dict[str, dict[str, int]] = OrderedDict((a, {}) for a in areas)
    failed: list[dict] = []
    for source, name, status in tests:
        rel = _rel(source, root) if source else "?"
        area = _area_of(rel, areas)
        counts = per_area.setdefault(area, {})
        counts[status] = counts.get(status, 0) + 1
        if status == "FAIL":
            failed.append({"area": area, "file": rel, "test": name})
    summary = {}
    for area, c in per_area.items():
        summary[area] = {
            "passed": c.get("PASS", 0),
            "failed": c.get("FAIL", 0),
            "skipped": c.get("SKIP", 0) + c.get("NOT RUN", 0),
            "total": sum(c.values()),
        }
    return summary, failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output_xml", type=Path)
    ap.add_argument("--root", type=Path, default=Path.cwd(), help="test suite checkout")
    ap.add_argument("--area", action="append", default=[], help="area folder, relative to --root")
    ap.add_argument("--failed", action="store_true", help="also list the failed tests")
    ap.add_argument("--json", type=Path, help="also write the summary as JSON to this file")
    args = ap.parse_args(argv)
    if not args.output_xml.is_file():
        print(f"etsi_summary: no such file: {args.output_xml}", file=sys.stderr)
        return 2
    areas = [a.strip("/") for a in args.area]
    try:
        summary, failed = summarize(args.output_xml, args.root, areas)
    except ET.ParseError as e:
        print(f"etsi_summary: cannot parse {args.output_xml}: {e}", file=sys.stderr)
        return 2

    width = max([len(a) for a in summary] + [len("TOTAL"), len("area")])

    def row(name: str, p: object, f: object, s: object, t: object) -> str:
        return f"{name:<{width}}  {p:>6}  {f:>6}  {s:>7}  {t:>5}"

    print(row("area", "passed", "failed", "skipped", "total"))
    tot = {"passed": 0, "failed": 0, "skipped": 0, "total": 0}
    for area, c in summary.items():
        print(row(area, c["passed"], c["failed"], c["skipped"], c["total"]))
        for k in tot:
            tot[k] += c[k]
    print(row("TOTAL", tot["passed"], tot["failed"], tot["skipped"], tot["total"]))
    if args.failed and failed:
        print("\nfailed tests:")
        for f in failed:
            print(f"  {f['file']} :: {f['test']}")
    if args.json:
        args.json.write_text(
            json.dumps({"areas": summary, "total": tot, "failed": failed}, indent=2) + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
