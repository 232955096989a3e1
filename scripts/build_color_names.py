"""Write extractor/data/color_names.json from Stitch Fix's `colornamer` colour hierarchy.

    python scripts/build_color_names.py path/to/colornamer/static/color_hierarchy.csv

The hierarchy (Apache-2.0, https://github.com/stitchfix/colornamer, PyPI `colornamer` 0.2.4) names all 949
colours of the XKCD colour survey (CC0) and groups them into 26 colour families chosen by apparel stylists.
This script keeps each colour's sRGB value and family and adds the taxonomy colour value of the family,
by one reviewed rule: a compound family is named by its head, the last word, as English compounds are
("blue green" is a green, "green blue" a blue); violet is Purple, sienna Brown, khaki Beige, olive Green,
ochre Yellow. The families have no navy or beige, which the taxonomy has: a survey colour whose own name
ends in one of these words ("dark navy", "light beige") takes that value. Pink, a light red, is decided by
lightness when pixels are named (extractor/local/colors.py). The package itself is not a dependency: it
pins an old scikit-image.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

FAMILY_TO_VALUE = {
    "black": "Black", "white": "White", "grey": "Gray",
    "red": "Red", "orange": "Orange", "yellow": "Yellow", "green": "Green", "blue": "Blue", "purple": "Purple",
    "brown": "Brown", "sienna": "Brown", "khaki": "Beige", "olive": "Green", "yellow ochre": "Yellow",
    "violet red": "Red", "orange red": "Red", "red orange": "Orange", "yellow orange": "Orange",
    "orange yellow": "Yellow", "green yellow": "Yellow", "yellow green": "Green", "blue green": "Green",
    "green blue": "Blue", "violet blue": "Blue", "blue violet": "Purple", "red violet": "Purple",
}
OWN_NAMES = {"navy": "Navy", "beige": "Beige"}
OUT = Path(__file__).resolve().parents[1] / "extractor" / "data" / "color_names.json"


def main(csv_path: str) -> None:
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    colors = [{"name": r["xkcd_color"], "hex": r["xkcd_color_hex"].upper(), "family": r["color_family"],
               "value": OWN_NAMES.get(r["xkcd_color"].split()[-1], FAMILY_TO_VALUE[r["color_family"]])}
              for r in rows]
    about = ("Reference colours for naming product colours from pixels: the 949 XKCD colour-survey colours "
             "(CC0) with the colour families of Stitch Fix's colornamer (Apache-2.0, see "
             "color_names.LICENSE). 'value' is the taxonomy colour value of the family (rule in "
             "scripts/build_color_names.py). Not fitted to any catalog's photos.")
    OUT.write_text(json.dumps({"about": about, "source": "https://github.com/stitchfix/colornamer",
                               "colors": colors}, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {len(colors)} colours to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
