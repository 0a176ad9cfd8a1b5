#!/usr/bin/env bash
# GPU discovery script for Spark's resource scheduling, shipped in the CUDA image at
# /opt/spark/scripts/getGpusResources.sh and named by
#   spark.executor.resource.gpu.discoveryScript=/opt/spark/scripts/getGpusResources.sh
# Spark runs it once as each executor starts and reads one JSON object from stdout:
#   {"name": "gpu", "addresses": ["0", "1"]}
# with the indices of the GPUs this container sees (nvidia-smi lists only those the NVIDIA
# container runtime gave the pod). It does not pick or reserve GPUs: Kubernetes did that, and
# Spark hands the addresses to tasks (spark.task.resource.gpu.amount each).
# No GPU visible, or nvidia-smi missing or failing, is an error (exit 1, reason on stderr), so a
# misconfigured pod fails at start instead of training on no GPU.
set -euo pipefail

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "getGpusResources.sh: nvidia-smi not found; was the pod given a GPU (executor.gpu / nvidia.com/gpu limit) on a node with the NVIDIA container runtime?" >&2
  exit 1
fi

indices="$(nvidia-smi --query-gpu=index --format=csv,noheader)"
addresses=""
while IFS= read -r index; do
  index="${index//[[:space:]]/}"
  [ -z "$index" ] && continue
  if ! [[ "$index" =~ ^[0-9]+$ ]]; then
    echo "getGpusResources.sh: nvidia-smi printed '$index' where a GPU index was expected" >&2
    exit 1
  fi
  addresses="${addresses:+$addresses, }\"$index\""
done <<< "$indices"

if [ -z "$addresses" ]; then
  echo "getGpusResources.sh: nvidia-smi lists no GPU in this container; check the pod's nvidia.com/gpu limit" >&2
  exit 1
fi
printf '{"name": "gpu", "addresses": [%s]}\n' "$addresses"
