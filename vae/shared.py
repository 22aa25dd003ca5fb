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

from vae.config import SPATIAL_LOG_VAR_START, VAEConfig
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


@keras.saving.register_keras_serializable(package=PACKAGE)
class SoftBound(layers.Layer):
    """bound * tanh(x / bound): near x for small values, never past +-bound."""

    def __init__(self, bound: float, **kwargs):
        super().__init__(**kwargs)
        self.bound = bound

    def call(self, x):
        return self.bound * ops.tanh(x / self.bound)

    def get_config(self):
        return {**super().get_config(), "bound": self.bound}


def _residual_conv(x, filters: int, name: str):
    y = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv")(x)
    y = layers.LeakyReLU(negative_slope=0.2, name=f"{name}_act")(y)
    return layers.Add(name=f"{name}_add")([x, y])


@keras.saving.register_keras_serializable(package=PACKAGE)
class SplitCode(layers.Layer):
    """A code (B, L) -> its vector part (B, L - s*s*C) and its spatial part as a map (B, s, s, C)."""

    def __init__(self, side: int, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.side, self.channels = side, channels

    def call(self, z):
        split = ops.shape(z)[-1] - self.side * self.side * self.channels
        return z[:, :split], ops.reshape(z[:, split:], (-1, self.side, self.side, self.channels))

    def get_config(self):
        return {**super().get_config(), "side": self.side, "channels": self.channels}


def build_shared_encoder(cfg: VAEConfig) -> keras.Model:
    """images (B, S, S, 3) -> mean (B, L), log_var (B, L), domain logit (B, 1). With a spatial
    part, the code's last dims are a 1x1 conv of the features at `spatial_side`, flattened."""
    images = keras.Input((cfg.image_size, cfg.image_size, 3), name="images")
    x, side = images, cfg.image_size
    spatial = None
    for index, filters in enumerate(cfg.encoder_filters):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", name=f"enc_conv{index}")(x)  # halves H and W
        x = layers.LeakyReLU(negative_slope=0.2, name=f"enc{index}_act")(x)
        side //= 2
        if cfg.extra_convs and side <= HIGH_DETAIL_SIDE:
            x = _residual_conv(x, filters, f"enc{index}_res")
        if cfg.spatial_channels and side == cfg.spatial_side:
            spatial = x
    features = layers.Flatten(name="flatten")(x)  # (B, s * s * C)
    mean = layers.Dense(cfg.vector_dims, name="z_mean")(features)
    log_var = layers.Dense(cfg.vector_dims, name="z_log_var")(features)
    if spatial is not None:
        # normalised features and a small first variance (e^-4): the decoder sees the map's
        # signal before its noise. Read by the domain terms too, it stays at the prior anyway
        # (results/spatial-code.md); spatial_in_adversaries=False leaves it out of them
        spatial = layers.LayerNormalization(name="spatial_norm")(spatial)
        parts = []
        for part, start in (("mean", 0.0), ("log_var", SPATIAL_LOG_VAR_START)):
            bias = cfg.spatial_bound * np.arctanh(start / cfg.spatial_bound) if cfg.spatial_bound else start
            head = layers.Conv2D(cfg.spatial_channels, 1, kernel_initializer="zeros",
                                 bias_initializer=keras.initializers.Constant(bias), name=f"spatial_{part}")(spatial)
            if cfg.spatial_bound:
                head = SoftBound(cfg.spatial_bound, name=f"spatial_{part}_bound")(head)
            parts.append(layers.Flatten(name=f"spatial_{part}_flat")(head))
        mean = layers.Concatenate(name="z_mean_all")([mean, parts[0]])
        log_var = layers.Concatenate(name="z_log_var_all")([log_var, parts[1]])
    # the image's own domain, read from the features (the code is kept free of it): an upload's domain
    domain_logit = layers.Dense(1, name="domain_logit")(layers.LayerNormalization(name="domain_norm")(features))
    return keras.Model(images, [mean, log_var, domain_logit], name="encoder")


def build_shared_decoder(cfg: VAEConfig) -> keras.Model:
    """z (B, L) and domain (B, 1) in [0, 1] -> images (B, S, S, 3) in [0, 1]."""
    z = keras.Input((cfg.latent_dim,), name="z")
    domain = keras.Input((1,), name="domain")
    condition = layers.Concatenate(name="condition")([1.0 - domain, domain])  # (B, 2): Lego and emoji weights
    side, channels = cfg.decoder_start_size, cfg.decoder_filters[0]
    vector, spatial = SplitCode(cfg.spatial_side, cfg.spatial_channels, name="split_code")(z) \
        if cfg.spatial_channels else (z, None)
    x = layers.Dense(side * side * channels, name="dec_dense")(
        layers.Concatenate(name="z_and_domain")([vector, condition]))
    x = layers.Reshape((side, side, channels), name="dec_reshape")(x)  # (B, s, s, C)
    x = layers.LeakyReLU(negative_slope=0.2, name="dec_in_act")(x)
    for index, filters in enumerate(cfg.decoder_filters):
        x = layers.Conv2DTranspose(filters, cfg.transpose_kernel, strides=2, padding="same",
                                   name=f"dec_conv{index}")(x)  # doubles H and W
        side *= 2
        x = DomainFiLM(filters, name=f"dec{index}_film")([x, condition])
        x = layers.LeakyReLU(negative_slope=0.2, name=f"dec{index}_act")(x)
        if spatial is not None and side == cfg.spatial_side:  # the spatial part joins at its own side
            x = layers.Conv2D(filters, 3, padding="same", name=f"dec{index}_spatial")(
                layers.Concatenate(name=f"dec{index}_with_spatial")([x, spatial]))
            x = layers.LeakyReLU(negative_slope=0.2, name=f"dec{index}_spatial_act")(x)
        if cfg.extra_convs and side <= HIGH_DETAIL_SIDE:
            x = _residual_conv(x, filters, f"dec{index}_res")
    images = layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="dec_out")(x)
    return keras.Model([z, domain], images, name="decoder")


def build_patch_critic(cfg: VAEConfig) -> keras.Model:
    """PatchGAN critic: three stride-2 4x4 convs and a 3x3 conv to one logit per patch (each
    sees about 46 px), told the domain by a FiLM after its first conv."""
    image, domain = keras.Input((cfg.image_size, cfg.image_size, 3)), keras.Input((1,))
    x = image
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 4, strides=2, padding="same")(x)
        if filters == 32:
            x = DomainFiLM(filters)([x, domain])
        x = layers.LeakyReLU(negative_slope=0.2)(x)
    return keras.Model([image, domain], layers.Conv2D(1, 3, padding="same")(x), name="patch_critic")


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

    @property
    def loss_names(self) -> tuple[str, ...]:
        names = ("loss", "reconstruction", "kl", "mse", "ssim", "frequency", "domain_mmd", "domain_adversary",
                 "expression", "content_adversary", "domain_head", "pair", "swap")
        return names + (("patch", "patch_critic") if self.cfg.patch_weight else ())

    @property
    def expression_dims(self) -> int:
        return self.cfg.expression_dims

    def __init__(self, config: dict | VAEConfig, **kwargs):
        super().__init__(config, **kwargs)
        self.adversary_scale = keras.Variable(1.0, trainable=False, name="adversary_scale")
        if self.cfg.patch_weight:  # set by vae.train: 0 before patch_start_epoch, then patch_balance
            self.patch_scale = keras.Variable(1.0, trainable=False, name="patch_scale")
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
        self.domain_adversary = _mlp(cfg.adversary_dims, 1, "domain_adversary")
        self.domain_probe = _mlp(cfg.adversary_dims, 1, "domain_probe", hidden=0)
        self.expression_classifier = _mlp(max(cfg.expression_dims, 1), self.tag_count, "expression_classifier",
                                          hidden=0)  # linear: tags are directions of the expression dims
        self.content_adversary = _mlp(cfg.content_dims, self.tag_count, "content_adversary")
        if cfg.patch_weight:
            self.patch_critic = build_patch_critic(cfg)
        if cfg.spatial_dropout:
            self.map_dropout_seed = keras.random.SeedGenerator(cfg.seed + 1, name="map_dropout_seed")

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
        if training and cfg.spatial_dropout:  # these images' maps are zeros: the vector part draws them
            kept = tf.cast(keras.random.uniform((tf.shape(z)[0], 1), seed=self.map_dropout_seed)
                           >= cfg.spatial_dropout, z.dtype)
            z = tf.concat([z[:, :cfg.vector_dims], z[:, cfg.vector_dims:] * kept], axis=1)
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
        seen = mean[:, :cfg.adversary_dims]  # what the domain terms and the content adversary read
        values["domain_mmd"] = domain_mmd(seen, hard_domain) if cfg.domain_mmd_weight else tf.constant(0.0)
        values["domain_head"] = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=hard_domain, logits=domain_logit))
        tags = tf.cast(data["tags"], tf.float32)
        tagged = tf.cast(data["tagged"], tf.float32)
        split = cfg.expression_dims
        content = mean[:, split:split + cfg.content_dims]
        # the adversaries learn from frozen codes; the encoder is scored on leaving them uninformed
        uninformed = tf.ones_like(hard_domain) * _uninformed(hard_domain)
        values["domain_adversary"] = domain_confusion = 0.0
        for adversary in (self.domain_adversary, self.domain_probe):
            values["domain_adversary"] += tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=hard_domain, logits=adversary(tf.stop_gradient(seen))))
            domain_confusion += tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
                labels=uninformed, logits=adversary(seen)))
        if split:
            values["expression"] = _masked_tag_loss(tags, self.expression_classifier(mean[:, :split]), tagged)
            values["content_adversary"] = _masked_tag_loss(tags, self.content_adversary(tf.stop_gradient(content)),
                                                           tagged)
            content_confusion = _masked_tag_loss(tf.ones_like(tags) * _uninformed(tags, tagged),
                                                 self.content_adversary(content), tagged)
        else:
            values["expression"] = values["content_adversary"] = content_confusion = tf.constant(0.0)
        values["pair"] = values["swap"] = swap_term = tf.constant(0.0)
        if (cfg.pair_weight or cfg.swap_weight) and "expression_partner" in data:
            partners = self._partner_codes(data)
            values["pair"] = self._pair_error(data, mean, *partners)
            if cfg.swap_weight:
                values["swap"], swapped = self._swap_error(data, images, domain, *partners, training)
                swap_term = cfg.swap_weight * 0.5 * pixels * precision * values["swap"] * swapped
        size = pixels / REFERENCE_PIXELS
        patch_term = adversaries = tf.constant(0.0)
        if cfg.patch_weight:
            values["patch_critic"], values["patch"] = self._patch_errors(images, decoded, domain)
            patch_term = self.patch_scale * cfg.patch_weight * values["patch"]  # scale-free: see patch_balance
            adversaries = size * cfg.patch_weight * values["patch_critic"]
        scale = self.adversary_scale
        total = (reconstruction + swap_term + cfg.beta * self.kl_scale * kl
                 + size * cfg.domain_mmd_weight * values["domain_mmd"]
                 + size * scale * cfg.domain_adversary_weight * domain_confusion
                 + size * cfg.expression_weight * values["expression"]
                 + size * scale * cfg.content_adversary_weight * content_confusion
                 + size * 10.0 * values["domain_head"]
                 + size * cfg.pair_weight * values["pair"] + patch_term)
        adversaries += size * (cfg.domain_adversary_weight * values["domain_adversary"]
                               + cfg.content_adversary_weight * values["content_adversary"])
        values.update(loss=total, reconstruction=reconstruction, kl=kl, adversaries_loss=adversaries)
        return values

    def _patch_errors(self, images, decoded, domain):
        """The critic's cross-entropy (originals 1, reconstructions 0, the model's output held
        fixed) and the model's (its reconstructions taken for originals), per patch."""
        images = tf.convert_to_tensor(images, tf.float32)
        def entropy(logits, label):
            return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.fill(tf.shape(logits), label),
                                                                           logits=logits))

        critic = entropy(self.patch_critic([images, domain]), 1.0) + entropy(
            self.patch_critic([tf.stop_gradient(decoded), domain]), 0.0)
        return critic, entropy(self.patch_critic([decoded, domain]), 1.0)

    def patch_balance(self, data, limit: float = 1e4) -> float:
        """How much larger the reconstruction's gradient is than the critic term's at the
        decoder's last kernel, on one batch (VQGAN's adaptive weight, Esser et al. 2021, taken
        once an epoch): the critic term weighted by patch_weight times this pulls on the last
        layer patch_weight times as hard as the reconstruction."""
        last = self.decoder.trainable_weights[-2]  # the output conv's kernel
        with tf.GradientTape(persistent=True) as tape:
            values = self.losses_for(data, training=False)
        reconstruction, critic = (tape.gradient(values[key], last) for key in ("reconstruction", "patch"))
        del tape
        ratio = float(tf.norm(reconstruction) / (tf.norm(critic) + 1e-8))
        return min(ratio, limit)

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

    def _swap_error(self, data, images, domain, expression_target, identity_target, training):
        """The studio's own move, learnt where the data holds its answer: an image with both
        partners (a printed head: its emoji and its base) decoded from the expression partner's
        expression dims and the identity partner's other dims should be that image. Returns the
        pixel MSE over those images and their share of the batch."""
        split = self.cfg.expression_dims
        both = tf.cast(data["expression_paired"], tf.float32) * tf.cast(data["identity_paired"], tf.float32)
        rows = tf.where(both > 0.5)[:, 0]
        rows = tf.cond(tf.size(rows) > 0, lambda: rows, lambda: tf.zeros((1,), rows.dtype))  # never an empty batch
        z = tf.gather(tf.concat([expression_target[:, :split], identity_target[:, split:]], axis=1), rows)
        decoded = self.decoder([z, tf.gather(domain, rows)], training=training)
        weight = tf.gather(both, rows)  # 0 for the stand-in row of a batch without pairs
        squared = tf.reduce_mean(tf.square(tf.gather(images, rows) - decoded), axis=(1, 2, 3))
        count = tf.reduce_sum(weight)
        share = count / tf.cast(tf.shape(images)[0], tf.float32)
        return tf.reduce_sum(weight * squared) / tf.maximum(count, 1.0), share

    def adversary_weights(self) -> list:
        critic = self.patch_critic.trainable_weights if self.cfg.patch_weight else []
        return (self.domain_adversary.trainable_weights + self.domain_probe.trainable_weights
                + self.content_adversary.trainable_weights + critic)

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
