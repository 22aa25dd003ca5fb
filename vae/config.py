"""One dataclass describes a model and its training; it is saved as JSON beside the weights."""
from __future__ import annotations

import csv
import json
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from common.files import atomic_write_text
from data.labels import EXPRESSIONS

FAMILY_NAMES = ("plain", "shared")
# fields the shared family's training step never reads: they must keep these values there
PLAIN_ONLY = {"ssim_weight": 0.0, "edge_weight": 0.0, "batch_norm": False, "dropout": 0.0,
              "decoder_upsampling": "transpose", "output_layer": "conv"}
# fields of experiments that did not ship (results/spatial-code.md, patch-critic.md,
# swap-term.md): configs saved while they existed hold them, and at these values they changed
# nothing, so such a config loads without them
RETIRED_FIELDS = {"swap_weight": 0.0, "patch_weight": 0.0, "patch_start_epoch": 0, "spatial_channels": 0,
                  "spatial_side": 8, "spatial_in_adversaries": True, "spatial_dropout": 0.0,
                  "spatial_in_content_adversary": False, "spatial_bound": 0.0}


class RetiredExperiment(ValueError):
    """A saved config turns on an experiment this version no longer builds."""


@dataclass(frozen=True)
class VAEConfig:
    """Architecture, loss and training settings of one VAE."""

    preset: str = "default"
    # "plain": one VAE for every image; "shared": the domain is a condition of the decoder and
    # the code is pushed to hold content only (see vae/shared.py)
    family: str = "plain"
    image_size: int = 64
    latent_dim: int = 64
    encoder_filters: tuple[int, ...] = (32, 64, 128, 256)  # one stride-2 3x3 conv each
    decoder_filters: tuple[int, ...] = (128, 96, 64, 32)  # one 2x upsampling block each
    decoder_upsampling: str = "transpose"  # "transpose" (stride-2 transposed conv) or "resize" (nearest + conv)
    transpose_kernel: int = 4  # 4 (a multiple of the stride) avoids checkerboard artefacts
    output_layer: str = "conv"  # "conv": 3x3 conv at full size; "transpose": a last stride-2 transposed conv
    batch_norm: bool = False
    dropout: float = 0.0
    # loss = reconstruction_weight * pixel MSE + ssim_weight * (1 - SSIM) + edge_weight * |edge error|
    #        + beta * warm-up * KL
    reconstruction_weight: float = 10000.0
    ssim_weight: float = 300.0
    edge_weight: float = 1000.0
    beta: float = 0.5
    kl_warmup_epochs: int = 5
    learning_rate: float = 1e-3
    lr_schedule: str = "cosine"  # "constant" or "cosine" (decays to 5 % over the run)
    # the shared family's terms, in nats per image like the ELBO; the auxiliary weights are per
    # 64x64 image and scale with the pixel count, so a preset behaves alike at any size
    reconstruction_loss: str = "weighted"  # "weighted": the weights above; "sigma": calibrated decoder variance
    frequency_weight: float = 0.0  # focal frequency loss, on the calibrated precision's scale
    expression_dims: int = 0  # the first dims of z carry the expression, read by a tag classifier
    expression_weight: float = 0.0  # multi-label tag classification from the expression dims
    domain_mmd_weight: float = 0.0  # maximum mean discrepancy between the domains' codes in a batch
    domain_adversary_weight: float = 0.0  # adversary predicting the domain from z, through gradient reversal
    content_adversary_weight: float = 0.0  # adversary predicting the tags from the rest of z, reversed
    adversary_warmup_epochs: int = 0
    # paired codes: an image's expression dims match its expression partner's posterior mean (a
    # printed head and its emoji; one emoji in two art styles), its other dims its identity
    # partner's (a printed head and its base; the two sides of a head); the partner is a target
    pair_weight: float = 0.0
    extra_convs: bool = False  # a second 3x3 conv in each encoder and decoder block at <= 32 px
    batch_size: int = 64
    epochs: int = 60
    # the length of the cosine schedule the optimizer was built with (0: `epochs`); a run
    # resumed for more epochs keeps the schedule it started with, and says so here
    schedule_epochs: int = 0
    # the expression vocabulary the tag classifier was built for, saved so that a new tag in
    # data.labels never makes a saved model unloadable
    expressions: tuple[str, ...] = EXPRESSIONS
    seed: int = 0
    notes: str = field(default="", compare=False)

    def __post_init__(self):
        if self.image_size % (2 ** len(self.encoder_filters)) or self.image_size % (2 ** self.upsamplings):
            raise ValueError(f"image_size {self.image_size} must be divisible by 2 ** (number of blocks)")
        if self.output_layer not in ("conv", "transpose"):
            raise ValueError("output_layer must be 'conv' or 'transpose'")
        if self.decoder_upsampling not in ("resize", "transpose"):
            raise ValueError("decoder_upsampling must be 'resize' or 'transpose'")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError("lr_schedule must be 'constant' or 'cosine'")
        if self.family not in FAMILY_NAMES:
            raise ValueError(f"family must be one of {', '.join(FAMILY_NAMES)}")
        if self.family == "shared":
            ignored = [key for key, value in PLAIN_ONLY.items() if getattr(self, key) != value]
            if ignored:
                raise ValueError(f"the shared family does not use {', '.join(ignored)}: set "
                                 + ", ".join(f"{key}={PLAIN_ONLY[key]!r}" for key in ignored))
        if self.reconstruction_loss not in ("weighted", "sigma"):
            raise ValueError("reconstruction_loss must be 'weighted' or 'sigma'")
        if not 0 <= self.expression_dims < self.latent_dim:
            raise ValueError("expression_dims must be at least 0 and below latent_dim")

    @property
    def schedule_length(self) -> int:
        """Epochs of the learning-rate schedule that this run's optimizer follows."""
        return self.schedule_epochs or self.epochs

    @property
    def domain_conditioned(self) -> bool:
        """Whether this config's model takes the domain as a decoder condition (the same answer as
        the built model's `domain_conditioned`, known without building it)."""
        return self.family == "shared"

    @property
    def expression_part(self) -> int:
        """How many leading code dims the built model sets apart for the expression."""
        return self.expression_dims if self.domain_conditioned else 0

    @property
    def upsamplings(self) -> int:
        return len(self.decoder_filters) + (self.output_layer == "transpose")

    @property
    def decoder_start_size(self) -> int:
        """Side of the feature map the decoder starts from."""
        return self.image_size // 2 ** self.upsamplings

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, self.to_json())

    @classmethod
    def from_dict(cls, values: dict) -> "VAEConfig":
        return cls(**typed_fields(without_retired(values)))

    @classmethod
    def load(cls, path: str | Path) -> "VAEConfig":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def override(self, **changes) -> "VAEConfig":
        """A copy with `changes`, each checked against its field's type (ValueError naming it)."""
        return replace(self, **typed_fields(changes))


def without_retired(values: dict) -> dict:
    """`values` less the RETIRED_FIELDS, each of which must hold its off value."""
    used = [f"{key}={values[key]!r}" for key, off in RETIRED_FIELDS.items() if key in values and values[key] != off]
    if used:
        raise RetiredExperiment(f"turns on {', '.join(used)}, an experiment this version no longer builds: "
                                "train it again, or load it with a commit from before the experiment left")
    return {key: value for key, value in values.items() if key not in RETIRED_FIELDS}


def typed_fields(values: dict) -> dict:
    """`values` with each checked and converted to its VAEConfig field's type: lists become
    tuples, ints become floats where a float is due; anything else is a ValueError naming the field."""
    types = typing.get_type_hints(VAEConfig)
    unknown = set(values) - {f.name for f in fields(VAEConfig)}
    if unknown:
        raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
    return {key: _typed(key, value, types[key]) for key, value in values.items()}


def _typed(key: str, value, kind):
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{key} must be a list like [32, 64], not {value!r}")
        return tuple(_typed(key, v, item) for v in value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false, not {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{key} must be a whole number, not {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{key} must be a number, not {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text, not {value!r}")
    return value


PRESETS: dict[str, VAEConfig] = {
    # David Foster's "Generative Deep Learning" VAE exactly as the seed project trained it.
    "seed": VAEConfig(
        preset="seed", latent_dim=200, encoder_filters=(32, 64, 64, 64), decoder_filters=(64, 64, 32),
        decoder_upsampling="transpose", transpose_kernel=3, output_layer="transpose", batch_norm=True, dropout=0.25,
        reconstruction_weight=10000.0, ssim_weight=0.0, edge_weight=0.0, beta=1.0, kl_warmup_epochs=0,
        learning_rate=5e-4, lr_schedule="constant", batch_size=512, epochs=250,
        notes="4 stride-2 3x3 convs (32,64,64,64) + BN + LeakyReLU + dropout 0.25, 200-d latent, "
              "mirrored transposed convs, sigmoid; loss 10000 x pixel MSE + KL",
    ),
    # Ours: no dropout or batch norm, wider layers with 4x4 transposed convs and a full-size
    # output conv, a 64-d latent, SSIM and edge terms for sharpness, a KL warm-up, small batches.
    "plain": VAEConfig(preset="plain"),
    # The shipped model: 128 px, the domain as a decoder condition, a content-only code with an
    # expression part, a calibrated decoder variance and a focal frequency term.
    "default": VAEConfig(
        preset="default", family="shared", image_size=128, latent_dim=96,
        encoder_filters=(32, 64, 128, 256, 256), decoder_filters=(256, 128, 64, 32, 32), extra_convs=True,
        reconstruction_loss="sigma", frequency_weight=1.0, beta=1.0, kl_warmup_epochs=4, ssim_weight=0.0,
        edge_weight=0.0,
        expression_dims=16, expression_weight=1500.0, domain_mmd_weight=3000.0, domain_adversary_weight=2000.0,
        content_adversary_weight=500.0, adversary_warmup_epochs=3, pair_weight=2000.0, batch_size=32, epochs=42,
        learning_rate=5e-4, notes="conditional 128 px VAE with latent adversaries (see README)",
    ),
    # The same design at 64 px and a third of the epochs: trains in minutes.
    "fast": VAEConfig(
        preset="fast", family="shared", image_size=64, latent_dim=64,
        encoder_filters=(32, 64, 128, 256), decoder_filters=(256, 128, 64, 32), extra_convs=True,
        reconstruction_loss="sigma", frequency_weight=1.0, beta=1.0, kl_warmup_epochs=3, ssim_weight=0.0,
        edge_weight=0.0,
        expression_dims=16, expression_weight=1500.0, domain_mmd_weight=3000.0, domain_adversary_weight=1000.0,
        content_adversary_weight=500.0, adversary_warmup_epochs=2, pair_weight=2000.0, batch_size=32, epochs=20,
        learning_rate=5e-4,
    ),
    # A small model for tests and quick experiments.
    "tiny": VAEConfig(preset="tiny", latent_dim=16, encoder_filters=(8, 16, 16, 16), decoder_filters=(16, 16, 8, 8),
                      batch_size=32, epochs=2, kl_warmup_epochs=1),
    # The shared design at its smallest, for tests.
    "tiny-shared": VAEConfig(
        preset="tiny-shared", family="shared", latent_dim=16, encoder_filters=(8, 16, 16, 16),
        decoder_filters=(16, 16, 8, 8), reconstruction_loss="sigma", frequency_weight=1.0, beta=1.0, ssim_weight=0.0,
        edge_weight=0.0,
        expression_dims=4, expression_weight=300.0, domain_adversary_weight=300.0, content_adversary_weight=100.0,
        adversary_warmup_epochs=1, pair_weight=300.0, batch_size=32, epochs=2, kl_warmup_epochs=1,
    ),
}


def read_config(path: Path, hint: str) -> VAEConfig:
    """A run's or an asset folder's config.json, or a UserError ending in `hint` (what to do)."""
    from common.errors import UserError

    if not Path(path).is_file():
        raise UserError(f"{path} is missing: {hint}.")
    try:
        return VAEConfig.load(path)
    except RetiredExperiment as error:
        raise UserError(f"{path} {error}.") from error
    except (OSError, ValueError, TypeError) as error:
        raise UserError(f"{path} is not a readable model config ({error}): {hint}.") from error


def preset(name: str) -> VAEConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def read_history(path: Path) -> list[dict]:
    """The rows of a run's training history (history.csv, which vae.train writes each epoch) as
    dicts of strings; none when the file is missing."""
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
