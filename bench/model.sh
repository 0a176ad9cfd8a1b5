#!/usr/bin/env bash
# Model throughput benchmark: org.ringtrain.bench.model.ModelBench (training steps of the tiny and
# small GPT configs, MFU against ND4J's sgemm measured in the same run).
#   bench/model.sh                         # tiny and small, 10 timed steps each
#   bench/model.sh --steps 20 --configs small
#   bench/model.sh --threads 1             # pin ND4J and OpenBLAS to one thread
#   bench/model.sh --help
exec "$(dirname "$0")/run-main.sh" model org.ringtrain.bench.model.ModelBench "-Xmx2g" "$@"
