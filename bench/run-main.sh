#!/usr/bin/env bash
# Shared launcher of the benchmark commands (bench/ring.sh, bench/model.sh, bench/train.sh, bench/memory.sh):
# builds bench and the modules it uses, then runs one main class in one JVM with the JVM flags
# Spark needs on Java 17, read from the parent pom so that the two never drift apart.
#   bench/run-main.sh NAME MAIN_CLASS "JVM MEMORY FLAGS" [ARGS...]
# <NAME>BENCH_JAVA_OPTS (e.g. RINGBENCH_JAVA_OPTS=-Xlog:gc) adds JVM flags without editing a file.
set -euo pipefail
name=$1 main=$2 memory=$3
shift 3
cd "$(dirname "$0")/.."

# Test sources are not compiled: a benchmark needs main classes only. One reactor build packages
# the modules and writes bench's classpath with this checkout's module jars in it, so nothing is
# installed into the shared local repository (~/.m2), where other checkouts would pick it up.
mkdir -p bench/target/tmp
classpath_file="$PWD/bench/target/$name-bench.classpath"
rm -f "$classpath_file"
mvn -B -q -o -pl bench -am -Dmaven.test.skip=true -Dcheckstyle.skip package dependency:build-classpath \
  -Dmdep.outputFile="$classpath_file"
[[ -s "$classpath_file" ]] || { echo "$name.sh: mvn wrote no classpath to $classpath_file" >&2; exit 1; }

source bench/bench-lib.sh
spark_flags=$(spark_jvm_flags "$name.sh")
log_config="bench/target/$name-bench-log4j2.properties"
write_quiet_log_config "$log_config"

opts_var="$(echo "$name" | tr '[:lower:]' '[:upper:]')BENCH_JAVA_OPTS"
export SPARK_LOCAL_IP=127.0.0.1
# shellcheck disable=SC2086 # spark_flags, memory and the opts variable are lists of flags
exec java $spark_flags $memory ${!opts_var:-} \
  -Djava.io.tmpdir=bench/target/tmp \
  -Dlog4j2.configurationFile="$log_config" \
  -D"$name"bench.command="bench/$name.sh${*:+ $*}" \
  -cp "bench/target/classes:$(cat "$classpath_file")" \
  "$main" "$@"
