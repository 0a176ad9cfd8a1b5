#!/usr/bin/env bash
# Data-parallel training benchmark: builds driver and bench, then runs
# org.ringtrain.bench.train.TrainBench (small GPT through GptTrainer: local[2]
# with one thread per rank, as the trainer leaves OpenBLAS and with OpenBLAS
# pinned, vs one rank with two threads and the same global batch; one JVM).
#   bench/train.sh --quick      # 1 round of 2 warm-up + 2 timed steps per scenario (~2-3 minutes)
#   bench/train.sh              # 2 rounds of 2 warm-up + 4 timed steps (~4-6 minutes on 2 cores)
#   bench/train.sh --help       # every flag
set -euo pipefail
cd "$(dirname "$0")/.."

mvn -B -q -o -pl bench -am -DskipTests -Dcheckstyle.skip install
mkdir -p bench/target/tmp
classpath_file="$PWD/bench/target/train-bench.classpath"
mvn -B -q -o -pl bench dependency:build-classpath -Dmdep.outputFile="$classpath_file"
[[ -s "$classpath_file" ]] || { echo "train.sh: mvn wrote no classpath to $classpath_file" >&2; exit 1; }

# The JVM flags Spark needs on Java 17: the parent pom's spark.jvm.flags, read
# from the pom so that the two never drift apart.
spark_flags=$(sed -n 's:.*<spark.jvm.flags>\(.*\)</spark.jvm.flags>.*:\1:p' pom.xml)
if [[ -z "$spark_flags" ]]; then
  echo "train.sh: could not read <spark.jvm.flags> from pom.xml; copy it here by hand" >&2
  exit 1
fi

# Spark's INFO chatter would bury the report: warnings only, to stderr, except
# the trainer's progress line (one per step), so a long run shows it is alive.
log_config=bench/target/train-bench-log4j2.properties
cat > "$log_config" <<'LOG'
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.progress.name = org.ringtrain.driver.metrics.ProgressReporter
logger.progress.level = info
LOG

# Heap: the driver holds the byte-token sequences and Spark's task results;
# the model, gradients and AdamW state of each rank live off-heap in ND4J.
# TRAINBENCH_JAVA_OPTS adds JVM flags (e.g. -Xlog:gc) without editing this file.
export SPARK_LOCAL_IP=127.0.0.1
# shellcheck disable=SC2086 # spark_flags and TRAINBENCH_JAVA_OPTS are lists of flags
exec java $spark_flags -Xmx3g ${TRAINBENCH_JAVA_OPTS:-} \
  -Djava.io.tmpdir=bench/target/tmp \
  -Dlog4j2.configurationFile="$log_config" \
  -Dtrainbench.command="bench/train.sh${*:+ $*}" \
  -cp "bench/target/classes:$(cat "$classpath_file")" \
  org.ringtrain.bench.train.TrainBench "$@"
