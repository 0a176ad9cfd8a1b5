#!/usr/bin/env bash
# Data-parallel training benchmark: org.ringtrain.bench.train.TrainBench (small GPT through
# GptTrainer: local[2] with one thread per rank vs one rank with two threads and the same global
# batch, and local[2] with optimizerSharding; one JVM).
#   bench/train.sh --quick      # 1 round of 2 warm-up + 2 timed steps per scenario (~2-3 minutes)
#   bench/train.sh              # 2 rounds of 2 warm-up + 4 timed steps (~4-6 minutes on 2 cores)
#   bench/train.sh --help       # every flag
# Heap: the driver holds the byte-token sequences and Spark's task results; each rank's model,
# gradients and AdamW state live off-heap in ND4J.
exec "$(dirname "$0")/run-main.sh" train org.ringtrain.bench.train.TrainBench "-Xmx3g" "$@"
