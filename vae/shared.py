"""The shared family: one latent space for Lego faces and emoji that holds content, not domain.

- The domain (0 = Lego, 1 = emoji, anything between = a mix) is a condition of the decoder,
  fed to every upsampling block by feature-wise modulation (FiLM, Perez et al. 2018), so the
  code does not need to say which domain a face belongs to.
- Two forces push the domain out of the code, so Lego faces and emoji share one map: a
  maximum mean discrepancy between the two domains' posterior means in each batch (as the
  Variational Fair Autoencoder removes a nuisance variable, Louizos et al. 2016), and a latent
  domain adversary in the style of Fader Networks (Lample et al. 2017): the adversary learns to
  tell the domains apart from the code while the encoder learns to leave it guessing (its
  target is the uninformed 50/50 answer, a bounded "confusion" loss, Tzeng et al. 2015, rather
  than the adversary's unbounded error).
- The first `expression_dims` of the code are the expression: a linear classifier reads the
  expression tags from them, and a second adversary keeps the tags out of the rest,
  so changing those dims changes the expression and leaves the face (the rest) alone.
- Reconstruction is a Gaussian likelihood with a calibrated variance (sigma-VAE, Rybkin et al.
  2021: sigma^2 = the batch MSE, no hand-set weight) plus a focal frequency term (Jiang et al.
  2021) that weights the spectral errors the model finds hardest.
"""
from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from vae.config import VAEConfig
from vae.model import PACKAGE, VAE, as_float_images, inference_graph, kl_per_dimension, latent_batch

REFERENCE_PIXELS = 64 * 64 * 3  # auxiliary weights are per 64x64 image and scale with the pixel count
MMD_BANDWIDTHS = (0.5, 1.0, 2.0, 4.0)  # RBF kernel widths, relative to the code's root-mean-square norm
STANDARDISED_WEIGHT = 0.25  # share of the per-dim standardised mean difference in the domain discrepancy
HIGH_DETAIL_SIDE = 32  # blocks at or below this side get a second (residual) 3x3 conv when extra_convs


@keras.saving.register_keras_serializable(package=PACKAGE)
class DomainFiLM(layers.Layer):
    """x * (1 + gamma(c)) + beta(c) per channel, with (gamma, beta) linear in the condition c."""

    def __init__(self, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels

    def build(self, input_shape):
        condition_size = input_shape[1][-1]
        self.kernel = self.add_weight(shape=(condition_size, 2 * self.channels), initializer="zeros", name="kernel")
        self.bias = self.add_weight(shape=(2 * self.channels,), initializer="zeros", name="bias")

    def call(self, inputs):
        x, condition = inputs  # (B, H, W, C), (B, K)
        gamma, beta = ops.split(ops.matmul(condition, self.kernel) + self.bias, 2, axis=-1)  # (B, C) each
        return x * (1.0 + gamma[:, None, None, :]) + beta[:, None, None, :]

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


def _residual_conv(x, filters: int, name: str):
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv")(x)
    y = layers.LeakyReLU(negative_slope=0.2, name=f"{name}_act")(y)
    return layers.Add(name=f"{name}_add")([x, y])


def build_shared_encoder(cfg: VAEConfig) -> keras.Model:
    """images (B, S, S, 3) -> mean (B, L), log_var (B, L), domain logit (B, 1)."""
    images = keras.Input((cfg.image_size, cfg.image_size, 3), name="images")
    x, side = images, cfg.image_size
    for index, filters in enumerate(cfg.encoder_filters):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", name=f"enc_conv{index}")(x)  # halves H and W
        x = layers.LeakyReLU(negative_slope=0.2, name=f"enc{index}_act")(x)
        side //= 2
        if cfg.extra_convs and side <= HIGH_DETAIL_SIDE:
            x = _residual_conv(x, filters, f"enc{index}_res")
    features = layers.Flatten(name="flatten")(x)  # (B, s * s * C)
    mean = layers.Dense(cfg.latent_dim, name="z_mean")(features)
    log_var = layers.Dense(cfg.latent_dim, name="z_log_var")(features)
    # the image's own domain, read from the features (the code is kept free of it): an upload's domain
    domain_logit = layers.Dense(1, name="domain_logit")(layers.LayerNormalization(name="domain_norm")(features))
    return keras.Model(images, [mean, log_var, domain_logit], name="encoder")


def build_shared_decoder(cfg: VAEConfig) -> keras.Model:
    """z (B, L) and domain (B, 1) in [0, 1] -> images (B, S, S, 3) in [0, 1]."""
    z = keras.Input((cfg.latent_dim,), name="z")
    domain = keras.Input((1,), name="domain")
    condition = layers.Concatenate(name="condition")([1.0 - domain, domain])  # (B, 2): Lego and emoji weights
    side, channels = cfg.decoder_start_size, cfg.decoder_filters[0]
    x = layers.Dense(side * side * channels, name="dec_dense")(
        layers.Concatenate(name="z_and_domain")([z, condition]))
    x = layers.Reshape((side, side, channels), name="dec_reshape")(x)  # (B, s, s, C)
    x = layers.LeakyReLU(negative_slope=0.2, name="dec_in_act")(x)
    for index, filters in enumerate(cfg.decoder_filters):
        x = layers.Conv2DTranspose(filters, cfg.transpose_kernel, strides=2, padding="same",
                                   name=f"dec_conv{index}")(x)  # doubles H and W
        side *= 2
        x = DomainFiLM(filters, name=f"dec{index}_film")([x, condition])
        x = layers.LeakyReLU(negative_slope=0.2, name=f"dec{index}_act")(x)
        if cfg.extra_convs and side <= HIGH_DETAIL_SIDE:
            x = _residual_conv(x, filters, f"dec{index}_res")
    images = layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="dec_out")(x)
    return keras.Model([z, domain], images, name="decoder")


def _mlp(inputs: int, outputs: int, name: str, hidden: int = 128) -> keras.Model:
    x = z = keras.Input((inputs,), name=f"{name}_in")
    if hidden:
        for index in range(2):
            x = layers.Dense(hidden, name=f"{name}_dense{index}")(x)
            x = layers.LeakyReLU(negative_slope=0.2, name=f"{name}_act{index}")(x)
    return keras.Model(z, layers.Dense(outputs, name=f"{name}_out")(x), name=name)


def focal_frequency_error(images, decoded, alpha: float = 1.0):
    """Mean squared error of the orthonormal 2-D spectra, each frequency weighted by its own
    (normalised, gradient-free) error magnitude: without the weights it equals the pixel MSE."""
    def spectrum(x):  # (B, H, W, 3) -> (B, 3, H, W // 2 + 1) complex, orthonormal
        x = tf.transpose(x, (0, 3, 1, 2))
        return tf.signal.rfft2d(x) / tf.cast(tf.shape(x)[-1], tf.complex64)

    error = tf.abs(spectrum(images) - spectrum(decoded)) ** 2  # (B, 3, H, W)
    weight = tf.stop_gradient(tf.sqrt(error) ** alpha)
    weight = weight / (tf.reduce_max(weight, axis=(2, 3), keepdims=True) + 1e-12)
    return tf.reduce_mean(weight * error)


def domain_mmd(z, domain):
    """Squared maximum mean discrepancy between the codes of the two domains in a batch, with a
    sum of RBF kernels; 0 when the batch holds only one domain."""
    weights = tf.reshape(domain, (-1,))  # (B,) 1 for emoji, 0 for Lego
    emoji_count, lego_count = tf.reduce_sum(weights), tf.reduce_sum(1.0 - weights)
    squared = tf.reduce_sum(tf.square(z[:, None, :] - z[None, :, :]), axis=-1)  # (B, B)
    scale = tf.stop_gradient(tf.reduce_mean(tf.reduce_sum(tf.square(z), axis=1))) + 1e-6
    kernel = tf.add_n([tf.exp(-squared / (2.0 * width ** 2 * scale)) for width in MMD_BANDWIDTHS])
    a = weights / tf.maximum(emoji_count, 1.0) - (1.0 - weights) / tf.maximum(lego_count, 1.0)  # (B,)
    mmd = tf.reduce_sum(a[:, None] * a[None, :] * kernel)
    # what a linear probe sees: each dim's difference of domain means in units of its spread
    difference = tf.reduce_sum(a[:, None] * z, axis=0)  # (L,) emoji mean - Lego mean
    spread = tf.math.reduce_std(z, axis=0) + 1e-3
    standardised = tf.reduce_mean(tf.square(difference / spread))
    both = tf.cast((emoji_count > 0) & (lego_count > 0), tf.float32)
    return both * (mmd + STANDARDISED_WEIGHT * standardised)


def _masked_tag_loss(tags, logits, tagged):
    """Multi-label cross-entropy summed over tags, averaged over the images that carry tags."""
    per_image = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=tags, logits=logits), axis=1)
    return tf.reduce_sum(per_image * tagged) / tf.maximum(tf.reduce_sum(tagged), 1.0)


def _uninformed(labels, tagged=None):
    """The answer of a predictor that knows nothing: each label's rate in the batch, (1, K)."""
    if tagged is None:
        return tf.reduce_mean(labels, axis=0, keepdims=True)
    return tf.reduce_sum(labels * tagged[:, None], axis=0, keepdims=True) / tf.maximum(tf.reduce_sum(tagged), 1.0)


@keras.saving.register_keras_serializable(package=PACKAGE)
class SharedVAE(VAE):
    """Domain-conditioned VAE with latent adversaries; same interface as VAE plus `domain`."""

    domain_conditioned = True

    loss_names = ("loss", "reconstruction", "kl", "mse", "ssim", "frequency", "domain_mmd", "domain_adversary",
                  "expression", "content_adversary", "domain_head", "pair")

    @property
    def expression_dims(self) -> int:
        return self.cfg.expression_dims

    def __init__(self, config: dict | VAEConfig, **kwargs):
        super().__init__(config, **kwargs)
        self.adversary_scale = keras.Variable(1.0, trainable=False, name="adversary_scale")
        cfg = self.cfg
        zeros = np.zeros((1, cfg.image_size, cfg.image_size, 3), np.float32)
        self.losses_for({"images": zeros, "domain": np.zeros((1, 1), np.float32),
                         "tags": np.zeros((1, self.tag_count), np.float32), "tagged": np.zeros((1,), np.float32)},
                        training=False)  # creates every weight
        self.built = True

    @property
    def tag_count(self) -> int:
        return len(self.cfg.expressions)  # the vocabulary it was built for, saved in its config

    def build_parts(self) -> None:
        cfg = self.cfg
        self.encoder = build_shared_encoder(cfg)
        self.decoder = build_shared_decoder(cfg)
        # two domain adversaries: a small MLP, and a linear probe like the one that measures the space
        self.domain_adversary = _mlp(cfg.latent_dim, 1, "domain_adversary")
        self.domain_probe = _mlp(cfg.latent_dim, 1, "domain_probe", hidden=0)
        self.expression_classifier = _mlp(max(cfg.expression_dims, 1), self.tag_count, "expression_classifier",
                                          hidden=0)  # linear: tags are directions of the expression dims
        self.content_adversary = _mlp(cfg.latent_dim - cfg.expression_dims, self.tag_count, "content_adversary")

    def call(self, images, training=False):
        mean, log_var, domain_logit = self.encoder(images, training=training)
        z = self.sampling([mean, log_var]) if training else mean
        return self.decoder([z, ops.sigmoid(domain_logit)], training=training)

    def losses_for(self, data, training: bool) -> dict:
        """Every term in nats per image; "loss" is what the optimiser minimises."""
        cfg = self.cfg
        images, domain = data["images"], tf.reshape(tf.cast(data["domain"], tf.float32), (-1, 1))
        mean, log_var, domain_logit = self.encoder(images, training=training)
        z = self.sampling([mean, log_var])
        decoded = self.decoder([z, domain], training=training)
        pixels = float(cfg.image_size * cfg.image_size * 3)
        mse = tf.reduce_mean(tf.square(images - decoded))
        values = {"mse": mse}
        if not training:
            values["ssim"] = tf.reduce_mean(tf.image.ssim(images, decoded, max_val=1.0, filter_size=7))
        if cfg.reconstruction_loss == "sigma":
            # -log N(x; x_hat, sigma^2 I) with the optimal sigma^2 = MSE, constants dropped
            reconstruction = 0.5 * pixels * tf.math.log(mse + 1e-8)
            precision = tf.stop_gradient(1.0 / (mse + 1e-8))
        else:
            reconstruction = cfg.reconstruction_weight * mse
            precision = tf.constant(2.0 * cfg.reconstruction_weight / pixels)
        values["frequency"] = focal_frequency_error(images, decoded) if cfg.frequency_weight else tf.constant(0.0)
        reconstruction += cfg.frequency_weight * 0.5 * pixels * precision * values["frequency"]
        kl = tf.reduce_mean(tf.reduce_sum(kl_per_dimension(mean, log_var), axis=1))

        hard_domain = tf.round(domain)
        values["domain_mmd"] = domain_mmd(mean, hard_domain) if cfg.domain_mmd_weight else tf.constant(0.0)
        values["domain_head"] = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=hard_domain, logits=domain_logit))
        tags = tf.cast(data["tags"], tf.float32)
        tagged = tf.cast(data["tagged"], tf.float32)
        split = cfg.expression_dims
        content = mean[:, split:]
        # the adversaries learn from frozen codes; the encoder is scored on leaving them uninformed
        uninformed = tf.ones_like(hard_domain) * _uninformed(hard_domain)
        values["domain_adversary"] = domain_confusion = 0.0
        for adversary in (self.domain_adversary, self.domain_probe):
            values["domain_adversary"] += tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=hard_domain, logits=adversary(tf.stop_gradient(mean))))
            domain_confusion += tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=uninformed, logits=adversary(mean)))
        if split:
            values["expression"] = _masked_tag_loss(tags, self.expression_classifier(mean[:, :split]), tagged)
            values["content_adversary"] = _masked_tag_loss(tags, self.content_adversary(tf.stop_gradient(content)),
                                                           tagged)
            content_confusion = _masked_tag_loss(tf.ones_like(tags) * _uninformed(tags, tagged),
                                                 self.content_adversary(content), tagged)
        else:
            values["expression"] = values["content_adversary"] = content_confusion = tf.constant(0.0)
        values["pair"] = tf.constant(0.0)
        if cfg.pair_weight and "expression_partner" in data:
            values["pair"] = self._pair_error(data, mean, *self._partner_codes(data))
        size = pixels / REFERENCE_PIXELS
        scale = self.adversary_scale
        total = (reconstruction + cfg.beta * self.kl_scale * kl
                 + size * cfg.domain_mmd_weight * values["domain_mmd"]
                 + size * scale * cfg.domain_adversary_weight * domain_confusion
                 + size * cfg.expression_weight * values["expression"]
                 + size * scale * cfg.content_adversary_weight * content_confusion
                 + size * 10.0 * values["domain_head"]
                 + size * cfg.pair_weight * values["pair"])
        adversaries = size * (cfg.domain_adversary_weight * values["domain_adversary"]
                              + cfg.content_adversary_weight * values["content_adversary"])
        values.update(loss=total, reconstruction=reconstruction, kl=kl, adversaries_loss=adversaries)
        return values

    def _partner_codes(self, data):
        """The posterior means of each image's expression and identity partners, held fixed as
        targets: (B, L) each."""
        partners = tf.concat([data["expression_partner"], data["identity_partner"]], axis=0)  # (2B, S, S, 3)
        return tf.split(tf.stop_gradient(self.encoder(partners, training=False)[0]), 2, axis=0)

    def _pair_error(self, data, mean, expression_target, identity_target):
        """Mean squared distance, per paired image and dim, between the image's posterior mean
        and its partners': expression dims to the expression partner, the other dims to the
        identity partner."""
        split = self.cfg.expression_dims
        weights = [tf.cast(data["expression_paired"], tf.float32), tf.cast(data["identity_paired"], tf.float32)]
        errors = [tf.reduce_mean(tf.square(mean[:, :split] - expression_target[:, :split]), axis=1) if split
                  else tf.zeros_like(weights[0]),
                  tf.reduce_mean(tf.square(mean[:, split:] - identity_target[:, split:]), axis=1)]
        return sum(tf.reduce_sum(w * e) for w, e in zip(weights, errors)) / tf.maximum(
            tf.reduce_sum(weights[0]) + tf.reduce_sum(weights[1]), 1.0)

    def adversary_weights(self) -> list:
        return (self.domain_adversary.trainable_weights + self.domain_probe.trainable_weights
                + self.content_adversary.trainable_weights)

    def train_step(self, data):
        """Two players, one optimiser step: the model minimises "loss" (in which the
        adversaries' weights take no part), the adversaries their own cross-entropy."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        adversaries = self.adversary_weights()
        owned = {id(w) for w in adversaries}
        model_weights = [w for w in self.trainable_weights if id(w) not in owned]
        with tf.GradientTape(persistent=True) as tape:
            values = self.losses_for(data, training=True)
            model_objective = values["loss"] / replicas  # gradients are summed over replicas
            adversary_objective = values["adversaries_loss"] / replicas
        found = dict(zip(map(id, model_weights), tape.gradient(model_objective, model_weights)))
        found.update(zip(map(id, adversaries), tape.gradient(adversary_objective, adversaries)))
        del tape
        # in the model's own weight order: the optimizer's saved state follows it, so --resume works
        self.optimizer.apply([found[id(w)] for w in self.trainable_weights], self.trainable_weights)
        return self._update(values)

    # The interface the dashboard uses: numpy in, numpy out.

    @functools.cached_property
    def decoder_graph(self):
        return inference_graph(self.decoder, (self.cfg.latent_dim,), (1,))

    def decode(self, z: np.ndarray, domain=0.0) -> np.ndarray:
        """Images (B, S, S, 3) in [0, 1] for latents (B, L) in a domain: 0 Lego, 1 emoji, or a
        mix; a scalar for every latent or one value each."""
        z = latent_batch(z, self.cfg.latent_dim)
        domain = np.broadcast_to(np.asarray(0.0 if domain is None else domain, np.float32).reshape(-1, 1),
                                 (len(z), 1))
        return np.asarray(self.decoder_graph(z, np.ascontiguousarray(domain)))

    def domain_of(self, images: np.ndarray) -> np.ndarray:
        """Emoji-ness in [0, 1] of each image, read by the encoder's domain head."""
        logits = self.encoder_graph(as_float_images(images))[2]
        return np.asarray(ops.sigmoid(logits))[:, 0]

    def expression_logits(self, z: np.ndarray) -> np.ndarray:
        """(B, tags) tag logits of the expression dims of latents (B, L)."""
        z = latent_batch(z, self.cfg.latent_dim)
        return np.asarray(self.expression_classifier(z[:, :max(self.cfg.expression_dims, 1)]))
