#!/usr/bin/env bash
# Model-server load: org.ringtrain.bench.serve.ServeBench (a real server on loopback; generate in
# tokens/s with time to first token, classify in texts/s, p50/p99 latency, at concurrency 1, 8 and
# 32, with batching and without, side by side with the ratios). Bounded in requests and seconds.
#   bench/serve.sh                      # 48 requests or 60 s per cell, 64-token completions
#   bench/serve.sh --quick              # 16 requests or 20 s per cell, 32-token completions
#   bench/serve.sh --checkpoint-dir target/runs/moby --model-dir target/models/sentiment
#   bench/serve.sh --routes generate    # generation only: no classifier trained or served
#   bench/serve.sh --help
exec "$(dirname "$0")/run-main.sh" serve org.ringtrain.bench.serve.ServeBench "-Xmx3g" "$@"
