"""Print, then redraw: the studio's way to give a Lego face an emoji's expression.

The Lego side of the data has almost no winks, kisses or tears, so moving a face's code
towards an emoji's (the expression dims, `LatentSpace.transfer`) asks the Lego decoder for
marks it has seldom drawn. Printing asks it for less: the emoji's features are printed on the
face itself in place of its own eyes, brows and mouth (`data.printed.print_expression`, the
same step that makes the printed training heads), the print is encoded, and the face's code
moves towards that code. Decoding it redraws the print as the model draws a Lego face, and
the strength slides between the face (0) and the redrawn print (1).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from data.printed import print_expression
from vae import latent
from vae.space import LatentSpace

METHODS = ("printed", "code")  # print, then redraw; move the expression dims


def printed_codes(encode: Callable[[np.ndarray], np.ndarray], faces: np.ndarray,
                  emoji: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of each framed face (uint8 (B, S, S, 3)) with its emoji's features printed on it,
    and whether each could be printed: an emoji without a yellow face fill to lift its features
    from (a skull, a ghost) leaves its row NaN and False."""
    printed = [print_expression(face, target) for face, target in zip(faces, emoji)]
    done = np.array([image is not None for image in printed], bool)
    if not done.any():
        return np.full((len(printed), 0), np.nan), done
    codes = encode(np.stack([image for image in printed if image is not None]))
    out = np.full((len(printed), codes.shape[1]), np.nan)
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
