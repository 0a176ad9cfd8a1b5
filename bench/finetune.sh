#!/usr/bin/env bash
# Full fine-tuning against LoRA on one rank, side by side in one JVM: trainable parameters, ring
# bytes per step, AdamW memory and step time, with LoRA / full ratios (docs/benchmarks.md).
#   bench/finetune.sh                                # small preset, B 8, rank 8 on c_attn (~2-4 minutes on 2 cores)
#   bench/finetune.sh --preset 124m --batch 1 --seq 256 --steps 2 --rounds 1
# Heap: small; the models, gradients and AdamW state live off-heap in ND4J.
exec "$(dirname "$0")/run-main.sh" finetune org.ringtrain.bench.finetune.FinetuneBench "-Xmx1g" "$@"
