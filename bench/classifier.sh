#!/usr/bin/env bash
# Text classifiers, three benchmarks:
# 1. Throughput (the default): org.ringtrain.bench.model.ClassifierBench (training steps of the LSTM
#    and Transformer classifiers at the classification job's defaults, fused kernels and ND4J path
#    side by side, each in its own child JVM, with the ratio).
# 2. Accuracy (`accuracy`): org.ringtrain.bench.model.ClassifierAccuracyBench (ringtrain's
#    classifiers beside MLlib's logistic regression and naive Bayes on K random 80/20 splits of
#    data/sentiment: mean ± spread of accuracy, F1, area under ROC and fit time; docs/classifier.md).
#   bench/classifier.sh                    # throughput: both models, 2 rounds of fused + ND4J, 12 timed steps each
#   bench/classifier.sh --quick            # throughput: 1 round of 4 timed steps
#   bench/classifier.sh --archs lstm --threads 2
#   bench/classifier.sh accuracy           # accuracy: 5 splits, every model (about an hour on 2 idle cores)
#   bench/classifier.sh accuracy --splits 3 --models lr,nb,transformer
#   bench/classifier.sh accuracy --splits 5 --models lr,nb,transformer-backbone
#                                          # first pretrains conf/tiny.yaml's GPT on data/moby-dick.txt
#                                          # (600 steps; --backbone-steps N), then fine-tunes it per split
#   bench/classifier.sh accuracy --models transformer-backbone --backbone target/runs/moby
#                                          # a GPT checkpoint directory (or GPT-2 file) you trained before
#   bench/classifier.sh accuracy --quick   # accuracy smoke run: 1 split, 2 epochs
#   bench/classifier.sh --help
# 3. The job (`job`): org.ringtrain.bench.model.ClassifierJobBench (the train-classifier job itself on
#    data/sentiment for a bounded number of epochs, ND4J path and fused kernels, with and without
#    length grouping, each in a child JVM: non-padding tokens/s, computed positions/s, padding share).
#   bench/classifier.sh job                # 2 rounds of nd4j, fused, fused-grouped, 2 epochs each
#   bench/classifier.sh job --rounds 1 --variants nd4j,fused-grouped --epochs 1
if [[ "${1:-}" == job ]]; then
  shift
  exec "$(dirname "$0")/run-main.sh" classifierjob org.ringtrain.bench.model.ClassifierJobBench "-Xmx2g" "$@"
fi
if [[ "${1:-}" == accuracy ]]; then
  shift
  exec "$(dirname "$0")/run-main.sh" classifieraccuracy org.ringtrain.bench.model.ClassifierAccuracyBench "-Xmx3g" "$@"
fi
exec "$(dirname "$0")/run-main.sh" classifier org.ringtrain.bench.model.ClassifierBench "-Xmx1g" "$@"
