"""Compile the Shopify Standard Product Taxonomy YAML into the package data of ``taxonomy/``.

Usage: python scripts/build_taxonomy.py [SOURCE_DIR]   (default ../shared/data/shopify-taxonomy)

Writes taxonomy/data/taxonomy.json.gz (compact, committed), LICENSE and VERSION. The runtime never reads the
YAML: parsing 5 MB of YAML takes seconds, the gzip JSON loads in tens of milliseconds. Re-running is
idempotent (gzip mtime is pinned so the output is byte-identical for identical input).
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "taxonomy" / "data"
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "shopify-taxonomy"

try:
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader


def _load(path: Path):
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_Loader)


def build(source: Path, out_dir: Path = OUT_DIR) -> dict[str, int]:
    data = source / "data"
    attrs_doc = _load(data / "attributes.yml")
    values_doc = _load(data / "values.yml")
    categories_doc: list[dict] = []
    for path in sorted((data / "categories").glob("*.yml")):
        categories_doc.extend(_load(path))

    value_id_by_fid = {v["friendly_id"]: v["id"] for v in values_doc}
    values = [[v["id"], v["handle"], v["name"]] for v in values_doc]

    base = attrs_doc["base_attributes"]
    extended = attrs_doc["extended_attributes"]
    handle_by_fid: dict[str, str] = {}
    attributes = []
    for a in base:
        handle_by_fid[a["friendly_id"]] = a["handle"]
        attributes.append(
            [a["handle"], a["id"], a["friendly_id"], a["name"], a.get("description") or "",
             [value_id_by_fid[fid] for fid in a["values"]]]
        )  # fmt: skip
    base_handles = set(handle_by_fid.values())
    for a in extended:
        handle = a["handle"]
        # Two extended attributes share their handle with the base attribute they copy
        # ("door-frame-application" from "door/frame_application"); handles must stay unique keys.
        if handle in base_handles:
            handle = f"{handle}-extended"
        handle_by_fid[a["friendly_id"]] = handle
        attributes.append(
            [handle, None, a["friendly_id"], a["name"], a.get("description") or "",
             handle_by_fid[a["values_from"]]]
        )  # fmt: skip

    categories = [
        [
            c["id"],
            c["name"],
            list(c.get("children") or []),
            [handle_by_fid[f] for f in c.get("attributes") or []],
        ]
        for c in categories_doc
    ]
    version = (source / "VERSION").read_text(encoding="utf-8").strip()
    payload = {"version": version, "values": values, "attributes": attributes, "categories": categories}

    out_dir.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    with (
        (out_dir / "taxonomy.json.gz").open("wb") as fh,
        gzip.GzipFile(filename="", mode="wb", fileobj=fh, compresslevel=9, mtime=0) as gz,
    ):
        gz.write(raw)
    shutil.copyfile(source / "LICENSE", out_dir / "LICENSE")
    (out_dir / "VERSION").write_text(version + "\n", encoding="utf-8")
    return {
        "categories": len(categories),
        "base_attributes": len(base),
        "extended_attributes": len(extended),
        "values": len(values),
        "category_attribute_links": sum(len(c[3]) for c in categories),
    }


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    if not (source / "data" / "attributes.yml").is_file():
        print(f"taxonomy source not found: {source}", file=sys.stderr)
        return 2
    counts = build(source)
    size = (OUT_DIR / "taxonomy.json.gz").stat().st_size
    print(f"wrote {OUT_DIR / 'taxonomy.json.gz'} ({size / 1e6:.2f} MB): {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
