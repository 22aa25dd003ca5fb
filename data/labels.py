"""One expression vocabulary for both domains, mapped from LDraw descriptions and emoji names."""
from __future__ import annotations

import re

# tag -> patterns matched on lower-cased text (LDraw description, emoji name or short names).
EXPRESSION_PATTERNS: dict[str, tuple[str, ...]] = {
    "smile": (r"\bsmil", r"\bhappy\b", r"\bbeaming\b", r"\bblush", r"\bhalo\b", r"\bgrin"),
    "grin": (r"\bgrin", r"\bteeth\b(?!.*clench)", r"\bbig smile\b", r"\bbeaming\b"),
    "laugh": (r"\blaugh", r"tears of joy", r"\bjoy\b", r"open mouth smile", r"tightly-closed eyes"),
    "sad": (r"\bsad\b", r"\bfrown", r"\bpensive\b", r"\bdisappointed\b", r"\bunhappy\b", r"\bpout\b", r"\bsulk"),
    "angry": (r"\bangry\b", r"\banger\b", r"\bscowl", r"\bpouting\b", r"\brage\b", r"\bclenched teeth\b",
              r"\bsnarl", r"\bsymbols covering mouth\b", r"\btriumph\b", r"\bfierce\b", r"\bfurious\b",
              r"\bgrimac", r"\bmad\b", r"\bbared teeth\b", r"\bsteam\b"),
    "scared": (r"\bscared\b", r"\bfear", r"\bscream", r"\bafraid\b", r"\bterrif", r"\banguish", r"\bpanic",
               r"\bhorrified\b"),
    "surprised": (r"\bsurpris", r"\bastonish", r"\bshock", r"\bhushed\b", r"\bopen mouth\b(?! smile)",
                  r"\bo-shaped\b", r"\bexploding head\b", r"\bgasp", r"\bamazed\b", r"\bstar eyes\b",
                  r"\bstar-struck\b", r"\bflushed\b"),
    "wink": (r"\bwink",),
    "tongue": (r"\btongue\b", r"\bsavouring\b", r"\bdrool", r"\byum\b"),
    "sleepy": (r"\bsleep", r"\btired\b", r"\byawn", r"\bbags under eyes\b", r"\bweary\b", r"\bdrowsy\b",
               r"\bclosed eyes\b", r"\brelieved\b"),
    "cry": (r"\bcry", r"\btear\b", r"\btears\b(?! of joy)", r"\bsob\b", r"\bholding back tears\b"),
    "cool": (r"\bsunglasses\b", r"\bcool\b", r"\bgoggles\b", r"\bvisor\b"),
    "kiss": (r"\bkiss", r"\bpucker", r"\bheart-shaped eyes\b", r"\bthree hearts\b"),
    "smirk": (r"\bsmirk", r"\bcrooked\b", r"\blopsided\b", r"\blefty\b", r"\bsneer", r"\bone eyebrow raised\b",
              r"\bunamused\b", r"\bsly\b"),
    "neutral": (r"\bneutral\b", r"\bexpressionless\b", r"\bfirm\b", r"\bstern\b", r"\bstraight mouth\b",
                r"\bserious\b", r"\bdetermined\b", r"\bwithout mouth\b", r"\bdotted line\b", r"\bdiagonal mouth\b"),
    "worried": (r"\bworr", r"\bconcern", r"\bnervous\b", r"\bsweat", r"\bconfused\b", r"\bconfounded\b",
                r"\bpersevering\b", r"\banxious\b", r"\buneasy\b", r"\bpleading\b", r"\bqueasy\b"),
    "sick": (r"\bsick\b", r"\bnause", r"\bvomit", r"\bqueasy\b", r"\bthermometer\b", r"\bmedical mask\b",
             r"\bsneez", r"\bdizzy\b", r"\bspiral eyes\b", r"\bhead-bandage\b", r"\bfreezing\b",
             r"\boverheated\b", r"\bwoozy\b", r"\buneven eyes\b"),
}
EXPRESSIONS: tuple[str, ...] = tuple(EXPRESSION_PATTERNS)
_COMPILED = {tag: [re.compile(p) for p in patterns] for tag, patterns in EXPRESSION_PATTERNS.items()}

# emoji-datasource subcategories that imply a tag whatever the name says
SUBCATEGORY_TAGS = {
    "face-smiling": ("smile",),
    "face-affection": ("smile",),
    "face-tongue": ("tongue",),
    "face-sleepy": ("sleepy",),
    "face-concerned": ("worried",),
    "face-negative": ("angry",),
    "face-unwell": ("sick",),
}


def expression_tags(text: str) -> tuple[str, ...]:
    """Expression tags found in a free-text name, in vocabulary order."""
    lowered = text.lower().replace("_", " ")
    return tuple(tag for tag in EXPRESSIONS if any(p.search(lowered) for p in _COMPILED[tag]))


def emoji_tags(name: str, short_names: list[str] | tuple[str, ...] = (), subcategory: str = "") -> tuple[str, ...]:
    """Tags of an emoji from its name, short names and subcategory."""
    found = set(expression_tags(" ; ".join([name, *short_names])))
    found.update(SUBCATEGORY_TAGS.get(subcategory, ()))
    return tuple(tag for tag in EXPRESSIONS if tag in found)


def ldraw_side_texts(description: str, two_sided: bool) -> dict[str, str]:
    """The description text that speaks of each side of a head ("front / back" when two-sided)."""
    if not two_sided:
        return {"front": description}
    front, _, back = description.partition(" / ")
    return {"front": front, "back": back}


def tags_from_string(text: str) -> tuple[str, ...]:
    return tuple(t for t in str(text).split("|") if t)
