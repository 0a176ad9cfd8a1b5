#!/usr/bin/env python3
"""Writes the golden tensors TransformerClassifierReferenceTest compares the Java Transformer
classifier with, so that the Transformer block the GPT and the classifier share is checked against
an independent implementation in its bidirectional form too (key padding mask instead of causal).

An independent NumPy float64 implementation (its blocks are make_gpt2_reference.py's, with a key
padding mask instead of the causal one): token + position embedding, GPT-2 pre-LayerNorm
blocks (eps 1e-5, attention scaled by 1/sqrt(HS), tanh GELU, 4x MLP) whose attention sees every
non-padding key of the row, a final LayerNorm, the mean over the row's non-padding positions, a
linear head and the mean cross-entropy over rows. Run on random parameters and padded rows. A test
fixture generator, not part of the build: rerun it only when the fixture format changes.

    python3 worker-ops/src/test/python/make_classifier_reference.py \
        worker-ops/src/test/resources/org/ringtrain/ops/classify/classifier-reference.bin

File layout, little-endian: int32 V, maxLen, C, L, NH, K, B, P (parameter count); float64
params[P] in TransformerClassifier's layout order; int32 tokens[B*maxLen] (PAD_ID 0 trailing);
int32 labels[B]; float64 loss; float64 logits[B*K]; float64 grads[P] (central differences,
h = 1e-6).
"""
import struct
import sys

import numpy as np

from make_gpt2_reference import blocks, layernorm  # the same block maths as the GPT's reference

V, MAXLEN, C, L, NH, K, B = 11, 6, 8, 2, 2, 3, 3
LENGTHS = (6, 2, 4)


def layout():
    """(name, shape) in the buffer order of org.ringtrain.ops.classify.TransformerClassifier."""
    specs = [("embed.weight", (V, C)), ("pos.weight", (MAXLEN, C))]
    for i in range(L):
        p = f"h.{i}."
        specs += [(p + "ln_1.weight", (C,)), (p + "ln_1.bias", (C,)),
                  (p + "attn.c_attn.weight", (C, 3 * C)), (p + "attn.c_attn.bias", (3 * C,)),
                  (p + "attn.c_proj.weight", (C, C)), (p + "attn.c_proj.bias", (C,)),
                  (p + "ln_2.weight", (C,)), (p + "ln_2.bias", (C,)),
                  (p + "mlp.c_fc.weight", (C, 4 * C)), (p + "mlp.c_fc.bias", (4 * C,)),
                  (p + "mlp.c_proj.weight", (4 * C, C)), (p + "mlp.c_proj.bias", (C,))]
    specs += [("ln_f.weight", (C,)), ("ln_f.bias", (C,)), ("head.weight", (C, K)), ("head.bias", (K,))]
    return specs


def unflatten(flat):
    out, off = {}, 0
    for name, shape in layout():
        n = int(np.prod(shape))
        out[name] = flat[off:off + n].reshape(shape)
        off += n
    return out


def forward(flat, tokens, labels):
    p = unflatten(flat)
    valid = np.arange(MAXLEN)[None, :] < np.array(LENGTHS)[:, None]  # [B, T]
    x = p["embed.weight"][tokens] + p["pos.weight"][:MAXLEN]  # [B, T, C]
    x = blocks(p, x, valid[:, None, None, :], L, NH)  # keys of padding are never attended
    x = layernorm(x, p["ln_f.weight"], p["ln_f.bias"])
    pooled = (x * valid[:, :, None]).sum(1) / valid.sum(1, keepdims=True)  # [B, C]
    logits = pooled @ p["head.weight"] + p["head.bias"]  # [B, K]
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    loss = -logp[np.arange(B), labels].mean()
    return loss, logits


def main(path):
    rng = np.random.default_rng(20261205)
    n = sum(int(np.prod(s)) for _, s in layout())
    flat = rng.normal(0.0, 0.3, n)
    p = unflatten(flat)
    for i in range(L):
        p[f"h.{i}.ln_1.weight"] += 1.0
        p[f"h.{i}.ln_2.weight"] += 1.0
    p["ln_f.weight"] += 1.0
    tokens = np.zeros((B, MAXLEN), dtype=np.int64)  # PAD_ID 0
    for b, length in enumerate(LENGTHS):
        tokens[b, :length] = rng.integers(1, V, length)
    labels = rng.integers(0, K, B)
    loss, logits = forward(flat, tokens, labels)
    grads = np.empty(n)
    h = 1e-6
    for j in range(n):
        keep = flat[j]
        flat[j] = keep + h
        plus, _ = forward(flat, tokens, labels)
        flat[j] = keep - h
        minus, _ = forward(flat, tokens, labels)
        flat[j] = keep
        grads[j] = (plus - minus) / (2 * h)
    with open(path, "wb") as f:
        f.write(struct.pack("<8i", V, MAXLEN, C, L, NH, K, B, n))
        f.write(flat.astype("<f8").tobytes())
        f.write(tokens.astype("<i4").tobytes())
        f.write(labels.astype("<i4").tobytes())
        f.write(struct.pack("<d", loss))
        f.write(logits.astype("<f8").tobytes())
        f.write(grads.astype("<f8").tobytes())
    print(f"wrote {path}: {n} parameters, loss {loss:.12f}")


if __name__ == "__main__":
    main(sys.argv[1])
