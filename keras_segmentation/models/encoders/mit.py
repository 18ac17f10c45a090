"""Mix Transformer (MiT) encoders B0-B5, the backbone of SegFormer (Xie et al., 2021, https://arxiv.org/abs/2105.15203).

Four stages, each an **overlapping patch embedding** (a 7x7 stride-4, then 3x3
stride-2 convolution, zero-padded by half the kernel, + LayerNorm), a stack of
transformer blocks and a LayerNorm. A block is pre-norm **efficient
self-attention** (keys and values come from the sequence shortened by a
``sr x sr`` stride-``sr`` convolution, ``sr`` = 8, 4, 2, 1 per stage) and a
**Mix-FFN** (Dense -> 3x3 depthwise convolution -> GELU -> Dense), each with a
residual connection and optional stochastic depth. The stages give the pyramid
P2..P5 (strides 4..32; there is no P1).

Features stay ``(B, H, W, C)`` between layers and are flattened to sequences
inside the attention with the run-time size, so any input size works (fixed or
``None``); sizes that are multiples of 32 reproduce the reference exactly.
Sublayers carry keras-hub's attribute names (``proj``, ``norm``, ``attn.q``,
``mlp.fc1``, ...) so :mod:`keras_segmentation.models.weights.keras_hub` can read keras-hub presets.

Example:
    >>> import keras
    >>> pyramid = build_mit(keras.Input((64, 96, 3)), "b0")
    >>> {level: tuple(t.shape[1:]) for level, t in pyramid.items()}["P5"]
    (2, 3, 256)
"""

import keras
from keras import layers, ops

#: variant -> (channels of the four stages, blocks per stage)
MIT_VARIANTS = {
    "b0": ((32, 64, 160, 256), (2, 2, 2, 2)),
    "b1": ((64, 128, 320, 512), (2, 2, 2, 2)),
    "b2": ((64, 128, 320, 512), (3, 4, 6, 3)),
    "b3": ((64, 128, 320, 512), (3, 4, 18, 3)),
    "b4": ((64, 128, 320, 512), (3, 8, 27, 3)),
    "b5": ((64, 128, 320, 512), (3, 6, 40, 3)),
}
HEADS = (1, 2, 5, 8)
SR_RATIOS = (8, 4, 2, 1)
PATCH_SIZES = (7, 3, 3, 3)
STRIDES = (4, 2, 2, 2)
MLP_RATIO = 4


def _serializable(cls):
    return keras.saving.register_keras_serializable(package="keras_segmentation")(cls)


def _spatial(shape):
    """The number of positions of a ``(B, H, W, C)`` shape."""
    return int(shape[1]) * int(shape[2])


# ==================================================================== layers


class _ShapePreserving(layers.Layer):
    """A layer whose output has its input's shape."""

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


@_serializable
class OverlapPatchEmbed(layers.Layer):
    """Overlapping patch embedding: zero-pad by ``patch_size // 2``, strided convolution, LayerNorm.

    Example:
        >>> OverlapPatchEmbed(32, 7, 4)(keras.Input((64, 48, 3))).shape
        (None, 16, 12, 32)
    """

    def __init__(self, filters, patch_size, stride, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.patch_size, self.stride = filters, patch_size, stride
        self.proj = layers.Conv2D(filters, patch_size, strides=stride, name="proj", dtype=self.dtype_policy)
        self.norm = layers.LayerNormalization(epsilon=1e-5, name="norm", dtype=self.dtype_policy)

    def _padded(self, shape):
        pad = 2 * (self.patch_size // 2)
        return (shape[0], *(None if d is None else d + pad for d in shape[1:3]), shape[3])

    def build(self, input_shape):
        self.proj.build(self._padded(input_shape))
        self.norm.build(self.compute_output_shape(input_shape))

    def call(self, x):
        pad = self.patch_size // 2
        return self.norm(self.proj(ops.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))))

    def compute_output_shape(self, input_shape):
        return self.proj.compute_output_shape(self._padded(input_shape))

    def flops(self, input_shape, output_shape):
        """Forward FLOPs of the convolution (see :mod:`keras_segmentation.models.flops`)."""
        return 2 * _spatial(output_shape) * self.filters * self.patch_size**2 * int(input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "patch_size": self.patch_size, "stride": self.stride}


@_serializable
class EfficientSelfAttention(_ShapePreserving):
    """Multi-head self-attention whose keys and values come from a sequence shortened ``sr_ratio**2`` times.

    Example:
        >>> EfficientSelfAttention(64, 2, sr_ratio=4)(keras.Input((16, 16, 64))).shape
        (None, 16, 16, 64)
    """

    def __init__(self, dim, num_heads, sr_ratio=1, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.num_heads, self.sr_ratio = dim, num_heads, sr_ratio
        self.q = layers.Dense(dim, name="q", dtype=self.dtype_policy)
        self.k = layers.Dense(dim, name="k", dtype=self.dtype_policy)
        self.v = layers.Dense(dim, name="v", dtype=self.dtype_policy)
        self.proj = layers.Dense(dim, name="proj", dtype=self.dtype_policy)
        if sr_ratio > 1:
            self.sr = layers.Conv2D(dim, sr_ratio, strides=sr_ratio, padding="same", name="sr", dtype=self.dtype_policy)
            self.norm = layers.LayerNormalization(epsilon=1e-5, name="norm", dtype=self.dtype_policy)

    def build(self, input_shape):
        for dense in (self.q, self.k, self.v, self.proj):
            dense.build(input_shape)
        if self.sr_ratio > 1:
            self.sr.build(input_shape)
            self.norm.build(self.sr.compute_output_shape(input_shape))

    def _heads(self, x):
        """``(B, h, w, dim)`` -> ``(B, heads, h*w, dim / heads)``."""
        x = ops.reshape(x, (ops.shape(x)[0], -1, self.num_heads, self.dim // self.num_heads))
        return ops.transpose(x, (0, 2, 1, 3))

    def call(self, x):
        shape = ops.shape(x)
        reduced = self.norm(self.sr(x)) if self.sr_ratio > 1 else x
        query, key, value = self._heads(self.q(x)), self._heads(self.k(reduced)), self._heads(self.v(reduced))
        scores = ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))) * (self.dim // self.num_heads) ** -0.5
        out = ops.matmul(ops.softmax(scores, axis=-1), value)
        out = ops.reshape(ops.transpose(out, (0, 2, 1, 3)), (shape[0], shape[1], shape[2], self.dim))
        return self.proj(out)

    def flops(self, input_shape, output_shape):
        """Dense projections, the reduction convolution and the two attention products."""
        positions, reduced, conv = _spatial(input_shape), _spatial(input_shape), 0
        if self.sr_ratio > 1:
            reduced = _spatial(self.sr.compute_output_shape(input_shape))
            conv = 2 * reduced * self.dim**2 * self.sr_ratio**2
        # q and proj on every position, k and v on the reduced ones, then scores and the weighted sum
        return 4 * (positions + reduced) * self.dim**2 + conv + 4 * positions * reduced * self.dim

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "num_heads": self.num_heads, "sr_ratio": self.sr_ratio}


def exact_gelu(x):
    """GELU without the tanh approximation, written with ``erf``: the same values as ``ops.gelu(x, approximate=False)``,
    which TensorFlow computes with ``Erfc``, an op ONNX export (tf2onnx) does not have.

    Example:
        >>> float(exact_gelu(ops.convert_to_tensor(1.0)))  # doctest: +ELLIPSIS
        0.8413...
    """
    return 0.5 * x * (1.0 + ops.erf(x * 0.7071067811865476))


@_serializable
class MixFFN(_ShapePreserving):
    """Mix-FFN: Dense -> 3x3 depthwise convolution -> GELU -> Dense (the convolution replaces position embeddings).

    Example:
        >>> MixFFN(32, 128)(keras.Input((8, 8, 32))).shape
        (None, 8, 8, 32)
    """

    def __init__(self, dim, hidden_dim, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.hidden_dim = dim, hidden_dim
        self.fc1 = layers.Dense(hidden_dim, name="fc1", dtype=self.dtype_policy)
        self.dwconv = layers.DepthwiseConv2D(3, padding="same", name="dwconv", dtype=self.dtype_policy)
        self.fc2 = layers.Dense(dim, name="fc2", dtype=self.dtype_policy)

    def build(self, input_shape):
        hidden = (*input_shape[:-1], self.hidden_dim)
        self.fc1.build(input_shape)
        self.dwconv.build(hidden)
        self.fc2.build(hidden)

    def call(self, x):
        return self.fc2(exact_gelu(self.dwconv(self.fc1(x))))

    def flops(self, input_shape, output_shape):
        """The two Dense layers and the depthwise convolution."""
        return 2 * _spatial(input_shape) * self.hidden_dim * (2 * self.dim + 9)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "hidden_dim": self.hidden_dim}


@_serializable
class DropPath(_ShapePreserving):
    """Stochastic depth: in training, drop a residual branch for a random ``rate`` of the samples.

    Example:
        >>> import numpy as np
        >>> float(keras.ops.sum(DropPath(0.5)(np.ones((2, 1, 1, 1), "float32"))))  # inference: the identity
        2.0
    """

    def __init__(self, rate=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.seed = float(rate), seed
        self.seed_generator = keras.random.SeedGenerator(seed) if self.rate > 0 else None

    def call(self, x, training=False):
        if not training or self.rate == 0:
            return x
        keep = 1.0 - self.rate
        noise = keras.random.uniform((ops.shape(x)[0], 1, 1, 1), seed=self.seed_generator, dtype=x.dtype)
        return x * ops.floor(keep + noise) / keep

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@_serializable
class MixTransformerBlock(_ShapePreserving):
    """Pre-norm transformer block: ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``.

    Example:
        >>> MixTransformerBlock(64, 2, sr_ratio=4)(keras.Input((16, 16, 64))).shape
        (None, 16, 16, 64)
    """

    def __init__(self, dim, num_heads, sr_ratio=1, mlp_ratio=MLP_RATIO, drop_path_rate=0.0, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.num_heads, self.sr_ratio = dim, num_heads, sr_ratio
        self.mlp_ratio, self.drop_path_rate = mlp_ratio, float(drop_path_rate)
        self.norm1 = layers.LayerNormalization(epsilon=1e-6, name="norm1", dtype=self.dtype_policy)
        self.attn = EfficientSelfAttention(dim, num_heads, sr_ratio, name="attn", dtype=self.dtype_policy)
        self.norm2 = layers.LayerNormalization(epsilon=1e-6, name="norm2", dtype=self.dtype_policy)
        self.mlp = MixFFN(dim, dim * mlp_ratio, name="mlp", dtype=self.dtype_policy)
        self.drop_path = DropPath(self.drop_path_rate, name="drop_path", dtype=self.dtype_policy)

    def build(self, input_shape):
        for layer in (self.norm1, self.attn, self.norm2, self.mlp):
            layer.build(input_shape)

    def call(self, x, training=False):
        x = x + self.drop_path(self.attn(self.norm1(x)), training=training)
        return x + self.drop_path(self.mlp(self.norm2(x)), training=training)

    def flops(self, input_shape, output_shape):
        """Attention plus Mix-FFN."""
        return self.attn.flops(input_shape, output_shape) + self.mlp.flops(input_shape, output_shape)

    def get_config(self):
        config = {"dim": self.dim, "num_heads": self.num_heads, "sr_ratio": self.sr_ratio, "mlp_ratio": self.mlp_ratio}
        return {**super().get_config(), **config, "drop_path_rate": self.drop_path_rate}


# ============================================================ the encoder


def build_mit(inputs, variant, drop_path_rate=0.0):
    """Build MiT-``variant`` (``"b0"`` ... ``"b5"``) on ``inputs``; returns the pyramid ``{"P2": ..., "P5": ...}``.

    Args:
        inputs: a ``(B, H, W, C)`` tensor (any channel count, any size).
        variant: a key of :data:`MIT_VARIANTS`.
        drop_path_rate: stochastic depth of the last block; it rises linearly from 0 over the blocks
            (SegFormer trains with 0.1).
    """
    dims, depths = MIT_VARIANTS[variant]
    total = sum(depths)
    x, pyramid, index = inputs, {}, 0
    for stage, (dim, depth) in enumerate(zip(dims, depths), start=1):
        x = OverlapPatchEmbed(dim, PATCH_SIZES[stage - 1], STRIDES[stage - 1], name=f"mit_stage{stage}_embed")(x)
        for block in range(1, depth + 1):
            rate = drop_path_rate * index / max(total - 1, 1)
            x = MixTransformerBlock(
                dim, HEADS[stage - 1], SR_RATIOS[stage - 1], drop_path_rate=rate, name=f"mit_stage{stage}_block{block}"
            )(x)
            index += 1
        x = layers.LayerNormalization(epsilon=1e-6, name=f"mit_stage{stage}_norm")(x)
        pyramid[f"P{stage + 1}"] = x
    return pyramid
