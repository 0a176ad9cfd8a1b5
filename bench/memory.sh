#!/usr/bin/env bash
# Memory benchmark: org.ringtrain.bench.memory.MemoryBench (GPT-2 124M at ctx 1024 through
# GptTrainer in Spark local mode, one JVM per row, recompute off and on; per-rank peak of ND4J's
# off-heap bytes and of the resident size beside the train command's estimate, and tokens/s).
#   bench/memory.sh --quick      # N = 1, 2; micro-batch 1; 2 steps (~20-30 minutes on 2 shared cores)
#   bench/memory.sh              # N = 1, 2; micro-batch 1 and 4; 2 steps (over an hour on 2 cores)
#   bench/memory.sh --ranks 2,4 --micro-batches 1 --steps 1 --sharding --recompute on   # sharded rows beside unsharded
# JavaCPP's resident-size limit (maxphysicalbytes) is raised so that the largest row (N 2, B 4, recompute off: ~15 GiB)
# is measured rather than refused; the heap stays small (the rows are ~4 KiB each).
exec "$(dirname "$0")/run-main.sh" memory org.ringtrain.bench.memory.MemoryBench \
  "-Xmx2g -Dorg.bytedeco.javacpp.maxphysicalbytes=22g" "$@"
