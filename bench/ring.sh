#!/usr/bin/env bash
# Ring all-reduce benchmark: builds parameter-sync and bench, then runs
# org.ringtrain.bench.ring.RingBench (ring vs loopback TCP vs Spark, one JVM).
#   bench/ring.sh --quick                      # ~1 minute, for development
#   bench/ring.sh                              # the full table (~3-6 minutes on 2 cores)
#   bench/ring.sh --docs docs/benchmarks.md    # ... and write its section of the docs
#   bench/ring.sh --help                       # every flag
set -euo pipefail
cd "$(dirname "$0")/.."

mvn -B -q -o -pl bench -am -DskipTests -Dcheckstyle.skip install
mkdir -p bench/target/tmp
classpath_file="$PWD/bench/target/ring-bench.classpath"
mvn -B -q -o -pl bench dependency:build-classpath -Dmdep.outputFile="$classpath_file"
[[ -s "$classpath_file" ]] || { echo "ring.sh: mvn wrote no classpath to $classpath_file" >&2; exit 1; }

# The JVM flags Spark needs on Java 17: the parent pom's spark.jvm.flags, read
# from the pom so that the two never drift apart.
spark_flags=$(sed -n 's:.*<spark.jvm.flags>\(.*\)</spark.jvm.flags>.*:\1:p' pom.xml)
if [[ -z "$spark_flags" ]]; then
  echo "ring.sh: could not read <spark.jvm.flags> from pom.xml; copy it here by hand" >&2
  exit 1
fi

# Spark's INFO chatter would bury the report: warnings only, to stderr.
log_config=bench/target/ring-bench-log4j2.properties
cat > "$log_config" <<'LOG'
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
LOG

# Heap: Spark's baseline at N=4 x 256 MiB holds the cached vectors, the
# serialized partial sums and the broadcast at once (~4 GiB). Direct memory:
# the ring's N vectors of up to 256 MiB plus socket staging.
# RINGBENCH_JAVA_OPTS adds JVM flags (e.g. -Xlog:gc) without editing this file.
export SPARK_LOCAL_IP=127.0.0.1
# shellcheck disable=SC2086 # spark_flags and RINGBENCH_JAVA_OPTS are lists of flags
exec java $spark_flags -Xmx6g -XX:MaxDirectMemorySize=3g ${RINGBENCH_JAVA_OPTS:-} \
  -Djava.io.tmpdir=bench/target/tmp \
  -Dlog4j2.configurationFile="$log_config" \
  -Dringbench.command="bench/ring.sh${*:+ $*}" \
  -cp "bench/target/classes:$(cat "$classpath_file")" \
  org.ringtrain.bench.ring.RingBench "$@"
