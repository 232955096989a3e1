"""Build the bundled fixture catalog (indexer/data/fixture) from the Magento Luma sample data.

The output keeps the Magento sample-data layout (`fixtures/...csv` + `images/`), so the Magento importer
reads it with no other code. It holds every product, trimmed to what the importer reads, with each
product's base image, at most one more photo, and for configurable products one photo per color
variant (for color-from-pixels evaluation), downscaled to 512 px on the long side (JPEG quality 80).

    python scripts/build_fixture.py [--source ../shared/data/magento-luma] [--out indexer/data/fixture]
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "magento-luma"
DEFAULT_OUT = ROOT / "indexer" / "data" / "fixture"
MAX_SIDE = 512
QUALITY = 80
EXTRA_IMAGES = 1  # photos kept besides the base image (plus one per color on configurables)
EXPORT_COLUMNS = ["sku", "store_view_code", "attribute_set_code", "product_type", "categories", "name",
                  "description", "short_description", "price", "base_image", "created_at", "visibility",
                  "additional_attributes", "configurable_variations", "additional_images"]
SHORTHAND_GLOBS = ["CatalogSampleData/SimpleProduct/products_*.csv", "BundleSampleData/yoga_bundle.csv",
                   "GroupedProductSampleData/yoga_grouped.csv",
                   "DownloadableSampleData/products_training_video_download.csv"]
IMAGE_GLOBS = ["CatalogSampleData/SimpleProduct/images_*.csv", "BundleSampleData/images_*.csv",
               "GroupedProductSampleData/images_*.csv", "DownloadableSampleData/images_*.csv"]
COPY_GLOBS = ["*/categories.csv", "*/attributes.csv"]


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def variations(row: dict[str, str]) -> list[dict[str, str]]:
    out = []
    for part in (row.get("configurable_variations") or "").split("|"):
        pairs = dict(p.split("=", 1) for p in part.split(",") if "=" in p)
        if pairs.get("sku"):
            out.append(pairs)
    return out


def trim_export(source: Path, out: Path) -> set[str]:
    """The configurable products CSV, trimmed; returns the images it names."""
    path = source / "fixtures" / "ConfigurableSampleData" / "products.csv"
    _, rows = read_rows(path)
    by_sku = {r["sku"]: r for r in rows}
    keep_child_image: set[str] = set()
    used: set[str] = set()
    for row in rows:
        if row["product_type"] != "configurable":
            continue
        extra = [i for i in (row.get("additional_images") or "").split(",") if i and i != row["base_image"]]
        row["additional_images"] = ",".join(extra[:EXTRA_IMAGES])
        chosen = {row["base_image"], *extra[:EXTRA_IMAGES]}
        colors: set[str] = set()
        for variation in variations(row):
            child = by_sku.get(variation["sku"])
            color = variation.get("color")
            if child and color and color not in colors and child.get("base_image"):
                colors.add(color)
                keep_child_image.add(child["sku"])
                chosen.add(child["base_image"])
        used |= {i for i in chosen if i}
    for row in rows:
        if row["product_type"] != "configurable":
            row["description"] = ""  # variants share their parent's text; the importer reads the parent's
            row["short_description"] = ""
            if row["sku"] not in keep_child_image:
                row["base_image"] = ""
    write_rows(out / "fixtures" / "ConfigurableSampleData" / "products.csv", EXPORT_COLUMNS, rows)
    return used


def copy_shorthand(source: Path, out: Path) -> set[str]:
    for pattern in SHORTHAND_GLOBS + COPY_GLOBS:
        for path in sorted((source / "fixtures").glob(pattern)):
            target = out / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    used: set[str] = set()
    for pattern in IMAGE_GLOBS:
        for path in sorted((source / "fixtures").glob(pattern)):
            columns, rows = read_rows(path)
            kept, per_sku = [], {}
            for row in rows:
                count = per_sku.get(row["sku"], 0)
                if count <= EXTRA_IMAGES:
                    kept.append(row)
                    per_sku[row["sku"]] = count + 1
                    used.add(row["image"])
            write_rows(out / path.relative_to(source), columns, kept)
    return used


def downscale(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image = image.convert("RGB")
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        image.save(target, "JPEG", quality=QUALITY, optimize=True, progressive=True)


def build(source: Path, out: Path) -> dict:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    images = trim_export(source, out) | copy_shorthand(source, out)
    missing = []
    for ref in sorted(images):
        src = source / "images" / ref.lstrip("/")
        if not src.is_file():
            missing.append(ref)
            continue
        downscale(src, out / "images" / ref.lstrip("/"))
    for name in ("LICENSE.txt", "LICENSE_AFL.txt", "images/LICENSE.txt"):
        shutil.copyfile(source / name, out / name)
    (out / "README.md").write_text(
        "# Fixture catalog\n\nA trimmed copy of the Magento 2 Luma sample data (github.com/magento/"
        "magento2-sample-data, commit 53807565ba9f23c9409268c02bb995cf39ef553d), OSL-3.0 (LICENSE.txt,\n"
        "images/LICENSE.txt) and AFL-3.0 (LICENSE_AFL.txt). Built by scripts/build_fixture.py: every product,\n"
        f"CSV columns the importer reads, images downscaled to {MAX_SIDE} px (JPEG quality {QUALITY}): the base\n"
        f"image, at most {EXTRA_IMAGES} more, and one photo per color variant of configurable products.\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {"images": len(images) - len(missing), "missing": missing, "bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    result = build(args.source, args.out)
    print(f"wrote {args.out}: {result['images']} images, {result['bytes'] / 1e6:.1f} MB")
    for ref in result["missing"]:
        print(f"warning: image not found in the source: {ref}")


if __name__ == "__main__":
    main()
