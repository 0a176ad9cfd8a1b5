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
source bench/bench-lib.sh
classpath_file="$PWD/bench/target/ring-hosts.classpath"
build_test_classpath ring-hosts.sh "$classpath_file" -pl parameter-sync
echo "command: bench/ring-hosts.sh${*:+ $*}"
describe_machine
exec java -Xmx128m -Djava.io.tmpdir=bench/target/tmp \
  -cp "parameter-sync/target/test-classes:parameter-sync/target/classes:$(cat "$classpath_file")" \
  org.ringtrain.sync.netns.HostsRingBench "$@"
