#!/usr/bin/env bash
# Ring all-reduce between "hosts" on this machine: K network namespaces, one rank JVM each, links
# limited by tbf (build/netns-hosts.sh), busbw against the link rate. Needs root and iproute2.
#   bench/ring-hosts.sh --hosts 2 --link-rate 1gbit --iters 3     # one row, ~1 minute
#   bench/ring-hosts.sh                                           # K = 2, 4 x 1, 5, 10 Gbit/s and unlimited
#   bench/ring-hosts.sh --help                                    # every flag
# The driver JVM only launches and reads the ranks; each rank gets its own small heap and the
# direct memory of its buffer (HostsRingBench). The main class lives in parameter-sync's test
# sources beside the fixture it drives, so this builds those (no install into ~/.m2).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/target/tmp
classpath_file="$PWD/bench/target/ring-hosts.classpath"
rm -f "$classpath_file"
mvn -B -q -o -pl parameter-sync -DskipTests -Dcheckstyle.skip test-compile dependency:build-classpath \
  -Dmdep.outputFile="$classpath_file" -Dmdep.includeScope=test
[[ -s "$classpath_file" ]] || { echo "ring-hosts.sh: mvn wrote no classpath to $classpath_file" >&2; exit 1; }
echo "command: bench/ring-hosts.sh${*:+ $*}"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; date: $(date -u '+%Y-%m-%d %H:%M UTC'); load:$(uptime | sed 's/.*load average://')"
exec java -Xmx128m -Djava.io.tmpdir=bench/target/tmp \
  -cp "parameter-sync/target/test-classes:parameter-sync/target/classes:$(cat "$classpath_file")" \
  org.ringtrain.sync.netns.HostsRingBench "$@"
