"""A small hand-built store vocabulary (a Luma-like apparel and gear store) shared by the query tests."""

from __future__ import annotations

from search_api.query.vocabulary import StoreVocabulary

HOODIES = "aa-1-13-13"
TEES = "aa-1-13-8"
TANKS = "aa-1-13-9"
PANTS = "aa-1-12"
SHORTS = "aa-1-14"
JACKETS = "aa-1-10-2"
SPORTS_BRAS = "aa-1-1-6"
WATCHES = "aa-6-11"
BAGS = "lb"
DUFFELS = "lb-6"
BACKPACKS = "lb-1"
WATER_BOTTLES = "hg-11-3-11"


def store_vocabulary() -> StoreVocabulary:
    return StoreVocabulary(
        attributes={
            "color": {
                "color__black": "Black",
                "color__blue": "Blue",
                "color__red": "Red",
                "color__gray": "Gray",
                "color__green": "Green",
                "color__white": "White",
                "color__navy": "Navy",
                "color__lavender": "Lavender",
            },
            "target-gender": {"target-gender__male": "Male", "target-gender__female": "Female"},
            "material": {
                "material__cotton": "Cotton",
                "material__polyester": "Polyester",
                "material__wool": "Wool",
                "material__organic-cotton": "Organic Cotton",
                "material__fleece": "Fleece",
            },
            "pattern": {"pattern__solid": "Solid", "pattern__striped": "Striped"},
            "size": {
                "size__extra-small-xs": "Extra small (XS)",
                "size__small-s": "Small (S)",
                "size__medium-m": "Medium (M)",
                "size__large-l": "Large (L)",
                "size__extra-large-xl": "Extra large (XL)",
                "size__32": "32",
                "size__34": "34",
            },
            "activity": {
                "activity__yoga": "Yoga",
                "activity__running": "Running",
                "activity__gym": "Gym",
                "activity__hiking": "Hiking",
            },
            "style": {
                "style__hoodie": "Hoodie",
                "style__hooded": "Hooded",
                "style__tee": "Tee",
                "style__tank": "Tank",
                "style__full-zip": "Full zip",
                "style__pullover": "Pullover",
            },
            "eco-collection": {"eco-collection__yes": "Yes", "eco-collection__no": "No"},
            "age-group": {"age-group__kids": "Kids", "age-group__adults": "Adults"},
        },
        categories={
            "aa": "Apparel & Accessories",
            "aa-1": "Clothing",
            "aa-1-13": "Clothing Tops",
            HOODIES: "Hoodies",
            TEES: "T-Shirts",
            TANKS: "Tank Tops",
            PANTS: "Pants",
            SHORTS: "Shorts",
            "aa-1-10": "Outerwear",
            JACKETS: "Coats & Jackets",
            "aa-1-1": "Activewear",
            SPORTS_BRAS: "Sports Bras",
            "aa-6": "Jewelry",
            WATCHES: "Watches",
            BAGS: "Luggage & Bags",
            DUFFELS: "Duffel Bags",
            BACKPACKS: "Backpacks",
            "hg": "Home & Garden",
            "hg-11": "Kitchen & Dining",
            "hg-11-3": "Food & Beverage Carriers",
            WATER_BOTTLES: "Water Bottles",
        },
        merchant_categories={"Gear/Bags": DUFFELS, "Tees": TEES, "Fitness Equipment": WATER_BOTTLES},
        vendors=("Luma",),
        attribute_names={
            "color": "Color",
            "target-gender": "Target gender",
            "material": "Material",
            "pattern": "Pattern",
            "size": "Size",
            "activity": "Activity",
            "style": "Style",
            "age-group": "Age group",
        },
    )
