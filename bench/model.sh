#!/usr/bin/env bash
# Model throughput benchmark: builds worker-ops and bench, then runs
# org.ringtrain.bench.model.ModelBench (training steps of the tiny and small GPT
# configs, MFU against ND4J's sgemm measured in the same run).
#   bench/model.sh                         # tiny and small, 10 timed steps each
#   bench/model.sh --steps 20 --configs small
#   OMP_NUM_THREADS=1 bench/model.sh       # pin ND4J and OpenBLAS to one thread
#   bench/model.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."

# Test sources are not compiled (-Dmaven.test.skip): the benchmark needs main classes only.
mvn -B -q -o -pl bench -am -Dmaven.test.skip=true -Dcheckstyle.skip install
classpath_file="$PWD/bench/target/model-bench.classpath"
mvn -B -q -o -pl bench dependency:build-classpath -Dmdep.outputFile="$classpath_file"
[[ -s "$classpath_file" ]] || { echo "model.sh: mvn wrote no classpath to $classpath_file" >&2; exit 1; }
mkdir -p bench/target/tmp

# ND4J logs its backend banner at INFO through slf4j; no logging binding is needed.
# MODELBENCH_JAVA_OPTS adds JVM flags without editing this file.
# shellcheck disable=SC2086 # MODELBENCH_JAVA_OPTS is a list of flags
exec java -Xmx2g ${MODELBENCH_JAVA_OPTS:-} -Djava.io.tmpdir=bench/target/tmp \
  -cp "bench/target/classes:$(cat "$classpath_file")" \
  org.ringtrain.bench.model.ModelBench "$@"
