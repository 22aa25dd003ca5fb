"""Print, then redraw: the studio's way to give a Lego face an emoji's expression.

The Lego side of the data has almost no winks, kisses or tears, so moving a face's code
towards an emoji's (the expression dims, `LatentSpace.transfer`) asks the Lego decoder for
marks it has seldom drawn. Printing asks it for less: the emoji's features are printed on the
face itself in place of its own eyes, brows and mouth (`data.printed.print_expression`, the
same step that makes the printed training heads), the print is encoded, and the face's code
moves towards that code. Decoding it redraws the print as the model draws a Lego face, and
the strength slides between the face (0) and the redrawn print (1). `StudioPrints` makes the
studio's prints; `studio_codes` gives the research tools the same codes in a batch.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from common.recent import Recent
from data import printed
from vae import latent
from vae.space import LatentSpace

METHODS = ("printed", "code")  # print, then redraw; move the expression dims


class StudioPrints:
    """The studio's prints (data.printed.print_expression: the emoji's lifted features on the
    face with its own erased), the `kept` most recent of each, made from kept pieces: a pick
    that changes one side of a pair lifts or erases only that side. Safe across threads; each
    picture comes with a key of its content (common.recent.image_key)."""

    def __init__(self, kept: int):
        self._layers, self._bases, self._pictures = Recent(kept), Recent(kept), Recent(kept)

    def layer(self, emoji: np.ndarray, emoji_key: bytes):
        """The emoji's lifted features (data.printed.lifted_layer); None with no face fill to lift them from."""
        return self._layers.get(emoji_key, lambda: printed.lifted_layer(emoji))

    def can_print(self, emoji: np.ndarray, emoji_key: bytes) -> bool:
        return self.layer(emoji, emoji_key) is not None

    def picture(self, face: np.ndarray, face_key: bytes, emoji: np.ndarray, emoji_key: bytes) -> np.ndarray | None:
        """uint8 (S, S, 3): print_expression(face, emoji), kept or made from kept pieces."""
        def make() -> np.ndarray | None:
            layer = self.layer(emoji, emoji_key)
            if layer is None:
                return None
            return printed.printed_picture(self._bases.get(face_key, lambda: printed.erased_base(face)), layer)

        return self._pictures.get(face_key + emoji_key, make)


def printed_codes(encode: Callable[[np.ndarray], np.ndarray], faces: np.ndarray,
                  emoji: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of each framed face (uint8 (B, S, S, 3)) with its emoji's features printed on it,
    and whether each could be printed: an emoji without a yellow face fill to lift its features
    from (a skull, a ghost) leaves its row NaN and False."""
    prints = [printed.print_expression(face, target) for face, target in zip(faces, emoji)]
    done = np.array([image is not None for image in prints], bool)
    if not done.any():
        return np.full((len(prints), 0), np.nan), done
    codes = encode(np.stack([image for image in prints if image is not None]))
    out = np.full((len(prints), codes.shape[1]), np.nan)
    out[done] = codes
    return out, done


def studio_codes(encode: Callable[[np.ndarray], np.ndarray], space: LatentSpace, images: np.ndarray,
                 faces: np.ndarray, targets: np.ndarray, strength: float,
                 method: str = "printed") -> tuple[np.ndarray, np.ndarray]:
    """Codes of faces given emoji's expressions (dataset indices into `images` and `space`, pair
    by pair) and whether each was printed. "printed" prints and redraws, falling back to the
    expression dims for an emoji that cannot be printed; "code" moves the expression dims only."""
    if method not in METHODS:
        raise ValueError(f"unknown studio method {method!r}: use one of {', '.join(METHODS)}")
    faces, targets = np.asarray(faces), np.asarray(targets)
    z = np.array(space.means[faces], np.float64)
    done = np.zeros(len(faces), bool)
    if method == "printed":
        codes, done = printed_codes(encode, images[faces], images[targets])
        z[done] = latent.lerp(z[done], codes[done], strength)
    for row in np.flatnonzero(~done):  # the code way, and the printed way's fallback
        z[row] = space.transfer(z[row], strength, emoji_z=space.means[targets[row]])
    return z, done
