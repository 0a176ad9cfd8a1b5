#!/usr/bin/env python3
"""Writes the golden tensors GptModelReferenceTest compares the Java GPT model with.

An independent NumPy float64 implementation of GPT-2 (the same maths as Hugging Face's
GPT2LMHeadModel and nanoGPT: pre-LayerNorm blocks with eps 1e-5, causal attention scaled by
1/sqrt(HS), tanh GELU, 4x MLP, tied LM head, mean cross-entropy ignoring target -1), run on
random parameters. It is a test fixture generator, not part of the build: rerun it only when the
fixture format changes.

    python3 worker-ops/src/test/python/make_gpt2_reference.py \
        worker-ops/src/test/resources/org/ringtrain/ops/gpt/gpt2-reference.bin

File layout, little-endian: int32 V, ctx, C, L, NH, B, T, P (parameter count); float64 params[P]
in ParameterLayout order; int32 inputs[B*T]; int32 targets[B*T]; float64 loss; float64
logits[B*T*V]; float64 grads[P] (central differences, h = 1e-6).
"""
import struct
import sys

import numpy as np

V, CTX, C, L, NH, B, T = 13, 8, 8, 2, 2, 2, 6


def layout():
    """(name, shape) in the buffer order of org.ringtrain.ops.gpt.GptModel.layout."""
    specs = [("wte.weight", (V, C)), ("wpe.weight", (CTX, C))]
    for i in range(L):
        p = f"h.{i}."
        specs += [(p + "ln_1.weight", (C,)), (p + "ln_1.bias", (C,)),
                  (p + "attn.c_attn.weight", (C, 3 * C)), (p + "attn.c_attn.bias", (3 * C,)),
                  (p + "attn.c_proj.weight", (C, C)), (p + "attn.c_proj.bias", (C,)),
                  (p + "ln_2.weight", (C,)), (p + "ln_2.bias", (C,)),
                  (p + "mlp.c_fc.weight", (C, 4 * C)), (p + "mlp.c_fc.bias", (4 * C,)),
                  (p + "mlp.c_proj.weight", (4 * C, C)), (p + "mlp.c_proj.bias", (C,))]
    specs += [("ln_f.weight", (C,)), ("ln_f.bias", (C,))]
    return specs


def unflatten(flat):
    out, off = {}, 0
    for name, shape in layout():
        n = int(np.prod(shape))
        out[name] = flat[off:off + n].reshape(shape)
        off += n
    return out


def layernorm(x, w, b):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * w + b


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def blocks(p, x, allowed, layers, heads):
    """GPT-2's pre-LayerNorm blocks on x [B, T, C]; attention only where allowed ([.., T, T] bool)."""
    b, t, c = x.shape
    hs = c // heads
    for i in range(layers):
        h = f"h.{i}."
        a = layernorm(x, p[h + "ln_1.weight"], p[h + "ln_1.bias"])
        qkv = a @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]
        q, k, v = np.split(qkv, 3, axis=-1)
        q, k, v = (z.reshape(b, t, heads, hs).transpose(0, 2, 1, 3) for z in (q, k, v))
        att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hs)
        att = np.where(allowed, att, -np.inf)
        att = np.exp(att - att.max(-1, keepdims=True))
        att = att / att.sum(-1, keepdims=True)
        y = (att @ v).transpose(0, 2, 1, 3).reshape(b, t, c)
        x = x + y @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"]
        m = layernorm(x, p[h + "ln_2.weight"], p[h + "ln_2.bias"])
        m = gelu(m @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"])
        x = x + m @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"]
    return x


def forward(flat, inputs, targets):
    p = unflatten(flat)
    x = p["wte.weight"][inputs] + p["wpe.weight"][:T]  # [B, T, C]
    x = blocks(p, x, np.tril(np.ones((T, T), dtype=bool)), L, NH)
    x = layernorm(x, p["ln_f.weight"], p["ln_f.bias"])
    logits = x @ p["wte.weight"].T  # [B, T, V]
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    keep = targets >= 0
    loss = -logp.reshape(-1, V)[keep.reshape(-1), targets.reshape(-1)[keep.reshape(-1)]].mean()
    return loss, logits


def main(path):
    rng = np.random.default_rng(20261123)
    n = sum(int(np.prod(s)) for _, s in layout())
    flat = rng.normal(0.0, 0.3, n)
    p = unflatten(flat)
    for i in range(L):
        p[f"h.{i}.ln_1.weight"] += 1.0
        p[f"h.{i}.ln_2.weight"] += 1.0
    p["ln_f.weight"] += 1.0
    inputs = rng.integers(0, V, (B, T))
    targets = rng.integers(0, V, (B, T))
    targets[0, 2] = -1
    loss, logits = forward(flat, inputs, targets)
    grads = np.empty(n)
    h = 1e-6
    for j in range(n):
        keep = flat[j]
        flat[j] = keep + h
        plus, _ = forward(flat, inputs, targets)
        flat[j] = keep - h
        minus, _ = forward(flat, inputs, targets)
        flat[j] = keep
        grads[j] = (plus - minus) / (2 * h)
    with open(path, "wb") as f:
        f.write(struct.pack("<8i", V, CTX, C, L, NH, B, T, n))
        f.write(flat.astype("<f8").tobytes())
        f.write(inputs.astype("<i4").tobytes())
        f.write(targets.astype("<i4").tobytes())
        f.write(struct.pack("<d", loss))
        f.write(logits.astype("<f8").tobytes())
        f.write(grads.astype("<f8").tobytes())
    print(f"wrote {path}: {n} parameters, loss {loss:.12f}")


if __name__ == "__main__":
    main(sys.argv[1])
