"""The operations of the latent space that do not need the model: where a face's expression,
an expression tag or the other domain lies. Pure numpy; `explorer.engine` pairs it with the
model and `vae.eval.alignment` measures it.

The answers follow the model's capabilities, never its family's name:
- with a domain condition the code holds content only, and translation keeps the code and
  changes the condition; without one, translation adds the difference between the two
  domains' mean codes;
- with expression dims (the code's first `expression_dims`), transfer moves those dims and
  keeps the rest; without them, it adds an attribute vector (what sets the emoji apart from
  the average emoji, or the mean difference made by a tag).
"""
from __future__ import annotations

import numpy as np

from data.labels import EXPRESSIONS
from vae import latent

DOMAINS = {"lego": 0.0, "emoji": 1.0}
EVERY_FACE = "every face"
DOMAIN_GROUPS = {"Lego faces": "lego", "emoji faces": "emoji"}  # named groups of a direction's ends
MIN_GROUP = 3  # faces a group needs before a direction from it can say how steady it is


def default_strength(expression_dims: int) -> float:
    """The studio's starting strength: 1 takes an emoji's expression dims whole; an attribute
    vector needs a little more to show."""
    return 1.0 if expression_dims else 1.5


def domain_value(domain) -> float | np.ndarray:
    """The decoder's domain condition: "lego" is 0, "emoji" is 1, a number in [0, 1] a mix."""
    if isinstance(domain, str):
        if domain not in DOMAINS:
            raise ValueError(f"unknown domain {domain!r}: use 'lego', 'emoji' or a number in [0, 1]")
        return DOMAINS[domain]
    value = np.asarray(domain, np.float64)
    if not np.all((value >= 0) & (value <= 1)):
        raise ValueError("a domain mix must lie in [0, 1] (0 Lego, 1 emoji)")
    return float(value) if value.ndim == 0 else value


class LatentSpace:
    """The dataset's posterior means with their domains and tags, and the operations on them."""

    def __init__(self, means: np.ndarray, domains: np.ndarray, tags: np.ndarray, domain_conditioned: bool = False,
                 expression_dims: int = 0):
        if len(means) != len(domains) or len(means) != len(tags):
            raise ValueError("means, domains and tags must have one row per image")
        self.means = np.asarray(means, np.float64)
        self.domains = np.asarray(domains)
        self.tags = np.asarray(tags, bool)  # (N, len(EXPRESSIONS))
        self.domain_conditioned = bool(domain_conditioned)
        self.expression_dims = int(expression_dims)
        self._targets: dict[str, np.ndarray] = {}

    @classmethod
    def of_model(cls, cfg, means: np.ndarray, domains: np.ndarray, tags: np.ndarray) -> "LatentSpace":
        """The space of a model's codes, with the capabilities its config (a VAEConfig) gives it."""
        return cls(means, domains, tags, cfg.domain_conditioned, cfg.expression_part)

    def domain_mean(self, domain: str) -> np.ndarray:
        return self.means[self.domains == domain].mean(axis=0)

    def tag_column(self, tag: str) -> np.ndarray:
        if tag not in EXPRESSIONS:
            raise ValueError(f"unknown expression {tag!r}: choose one of {', '.join(EXPRESSIONS)}")
        return self.tags[:, EXPRESSIONS.index(tag)]

    def expression_target(self, tag: str) -> np.ndarray:
        """With expression dims: the mean code of the faces with the tag (both domains). Without:
        the tag's attribute vector (mean with minus mean without, averaged over the domains)."""
        if tag not in self._targets:
            column = self.tag_column(tag)
            self._targets[tag] = latent.tag_centroid(self.means, column) if self.expression_dims \
                else latent.expression_vector(self.means, column, self.domains)
        return self._targets[tag]

    def transfer(self, face_z: np.ndarray, strength: float, tag: str | None = None,
                 emoji_z: np.ndarray | None = None) -> np.ndarray:
        """The face's code given a tag's or an emoji's expression; 0 leaves it unchanged."""
        if (tag is None) == (emoji_z is None):
            raise ValueError("give either an expression tag or an emoji latent, not both or neither")
        face_z = np.asarray(face_z, np.float64)
        if self.expression_dims:
            target = self.expression_target(tag) if tag is not None else np.asarray(emoji_z, np.float64)
            return latent.move_expression(face_z, target, strength, self.expression_dims)
        vector = self.expression_target(tag) if tag is not None else emoji_z - self.domain_mean("emoji")
        return latent.apply_expression(face_z, vector, strength)

    def expression_direction(self, tag: str) -> np.ndarray:
        """Where a tag lies from the average face: in the expression dims only where the model
        has them, else the attribute vector."""
        if not self.expression_dims:
            return self.expression_target(tag)
        direction = np.zeros(self.means.shape[1])
        head = slice(0, self.expression_dims)
        direction[head] = self.expression_target(tag)[head] - self.means[:, head].mean(axis=0)
        return direction

    def mix_expressions(self, face_z: np.ndarray, amounts: dict[str, float]) -> np.ndarray:
        """The face moved along several expression directions at once, one amount per tag
        (0 leaves it, 1 adds the tag's full average, negative amounts take it away)."""
        moved = np.asarray(face_z, np.float64).copy()
        for tag, amount in amounts.items():
            if amount:
                moved += amount * self.expression_direction(tag)
        return moved

    def group_direction(self, group_a: np.ndarray, group_b: np.ndarray) -> np.ndarray:
        """Mean code of group B minus mean code of group A (index arrays or masks), as Latent
        Space Cartography builds its axes from two selections."""
        a, b = self.means[group_a], self.means[group_b]
        if len(a) == 0 or len(b) == 0:
            raise ValueError("both groups need at least one face")
        return b.mean(axis=0) - a.mean(axis=0)

    def group_names(self) -> list[str]:
        """The named groups a direction can run between: every face, each domain, each expression."""
        return [EVERY_FACE, *DOMAIN_GROUPS, *self.available_expressions()]

    def group_mask(self, group: str) -> np.ndarray:
        """(N,) bool: the faces of a named group (`group_names`)."""
        if group == EVERY_FACE:
            return np.ones(len(self.means), bool)
        if group in DOMAIN_GROUPS:
            return self.domains == DOMAIN_GROUPS[group]
        return self.tag_column(group)

    def direction_agreement(self, group_a: np.ndarray, group_b: np.ndarray, splits: int = 100) -> float | None:
        """How steady `group_direction(group_a, group_b)` is (latent.split_half_agreement: 1 steady,
        0 or below noise); None when a group has fewer than MIN_GROUP faces to tell."""
        a, b = self.means[group_a], self.means[group_b]
        if min(len(a), len(b)) < MIN_GROUP:
            return None
        return latent.split_half_agreement(a, b, splits)

    def translate(self, z: np.ndarray, from_domain: str, to_domain: str) -> np.ndarray:
        """The code to decode in `to_domain`: with a domain condition the condition does the work
        and the code is kept, else shifted by the difference of the domains' mean codes."""
        z = np.asarray(z, np.float64)
        if from_domain == to_domain or self.domain_conditioned:
            return z
        return z + self.domain_mean(to_domain) - self.domain_mean(from_domain)

    def available_expressions(self) -> list[str]:
        """Expressions carried by images of both domains (the ones a target can be built for)."""
        lego, emoji = self.domains == "lego", self.domains == "emoji"
        return [t for j, t in enumerate(EXPRESSIONS) if self.tags[lego, j].any() and self.tags[emoji, j].any()]
