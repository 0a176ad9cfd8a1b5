#!/usr/bin/env bash
# Int8 quantisation benchmark: org.ringtrain.bench.quant.QuantizeBench (file size, held-out loss and
# batch-1 generation tokens/s of a checkpoint in float32 and int8, both int8 matmul paths, one run).
#   bench/quantize.sh --checkpoint-dir /work/teacher-small
#   bench/quantize.sh --checkpoint-dir target/runs/moby --tokens 100 --rounds 3 --embeddings
#   bench/quantize.sh --help
exec "$(dirname "$0")/run-main.sh" quantize org.ringtrain.bench.quant.QuantizeBench "-Xmx2g" "$@"
