#!/usr/bin/env bash
# Text-classifier throughput: org.ringtrain.bench.model.ClassifierBench (training steps of the LSTM
# and Transformer classifiers at the classification job's defaults, fused kernels and ND4J path
# side by side, each in its own child JVM, with the ratio).
#   bench/classifier.sh                    # both models, 2 rounds of fused + ND4J, 12 timed steps each
#   bench/classifier.sh --quick            # 1 round of 4 timed steps
#   bench/classifier.sh --archs lstm --threads 2
#   bench/classifier.sh --help
exec "$(dirname "$0")/run-main.sh" classifier org.ringtrain.bench.model.ClassifierBench "-Xmx1g" "$@"
