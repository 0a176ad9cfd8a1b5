#!/usr/bin/env bash
# Model throughput benchmark: org.ringtrain.bench.model.ModelBench (training steps of the tiny and
# small GPT configs, MFU against ND4J's sgemm measured in the same run).
#   bench/model.sh                         # tiny and small, 10 timed steps each
#   bench/model.sh --steps 20 --configs small
#   bench/model.sh --threads 1             # one core: OpenBLAS, OpenMP and the op pool on one thread
#   bench/model.sh --op-threads 2          # libnd4j's op pool on two threads too (ND4J's default)
#   bench/model.sh --profile               # plus a per-layer table: time, FLOPs, bytes, bound
#   bench/model.sh --help
exec "$(dirname "$0")/run-main.sh" model org.ringtrain.bench.model.ModelBench "-Xmx2g" "$@"
