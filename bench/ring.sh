#!/usr/bin/env bash
# Ring all-reduce benchmark: org.ringtrain.bench.ring.RingBench (ring vs loopback TCP vs Spark, one JVM).
#   bench/ring.sh --quick                      # ~1 minute, for development
#   bench/ring.sh                              # the full table (~3-6 minutes on 2 cores)
#   bench/ring.sh --docs docs/benchmarks.md    # ... and write its section of the docs
#   bench/ring.sh --help                       # every flag
# Heap: Spark's baseline at N=4 x 256 MiB holds the cached vectors, the serialized partial sums and
# the broadcast at once (~4 GiB). Direct memory: the ring's N vectors of up to 256 MiB plus staging.
exec "$(dirname "$0")/run-main.sh" ring org.ringtrain.bench.ring.RingBench "-Xmx6g -XX:MaxDirectMemorySize=3g" "$@"
