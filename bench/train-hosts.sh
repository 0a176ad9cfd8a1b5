#!/usr/bin/env bash
# The data-parallel step of the small GPT (conf/small.yaml) with its ranks on "hosts" of this
# machine: K network namespaces with a Spark standalone Worker each (the Master in one more), links
# limited by tbf (build/netns-hosts.sh), fp32 against bf16 on the wire, then the same runs in local
# mode (one namespace, no limit) for reference. Needs root and iproute2.
#   bench/train-hosts.sh                      # K=2, 1 Gbit/s, fp32 and bf16, 1 warm-up + 3 timed steps each
#   bench/train-hosts.sh --codecs bf16 --timed 2 --no-reference
#   bench/train-hosts.sh --help               # every flag
# The main class lives in jobs' test sources beside the cluster fixture it drives, so this builds
# those (no install into ~/.m2). This JVM is the Spark driver; each rank is an executor JVM of
# --executor-memory (default 2g) in its host; the reference runs its ranks in this JVM (-Xmx3g: ND4J
# may use as much native memory as the heap limit, and a small-config rank needs ~0.7 GiB).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/bench-lib.sh
classpath_file="$PWD/bench/target/train-hosts.classpath"
build_test_classpath train-hosts.sh "$classpath_file" -pl jobs -am
spark_flags=$(spark_jvm_flags train-hosts.sh)
log_config="bench/target/train-hosts-log4j2.properties"
write_quiet_log_config "$log_config"
echo "command: bench/train-hosts.sh${*:+ $*}"
describe_machine
# shellcheck disable=SC2086 # spark_flags is a list of flags
java $spark_flags -Xmx3g -Djava.io.tmpdir=bench/target/tmp -Dlog4j2.configurationFile="$log_config" \
  -cp "jobs/target/test-classes:jobs/target/classes:$(cat "$classpath_file")" \
  org.ringtrain.jobs.cluster.HostsTrainBench "$@"
echo "load at end:$(uptime | sed 's/.*load average://')"
