#!/usr/bin/env bash
# ringtrain GPT training on Kubernetes with plain spark-submit (no operator): the same settings as
# k8s/sparkapplication/gpt-train-cpu.yaml, or gpt-train-gpu.yaml with GPUS=1.
#
#   kubectl apply -f k8s/spark-submit/rbac.yaml          # service account "ringtrain-spark"
#   kubectl create secret generic ringtrain-s3 --from-literal=access-key-id=... --from-literal=secret-access-key=...
#   kubectl create secret generic ringtrain-spark-auth --from-file=secret=<(head -c 32 /dev/urandom)
#   K8S_API=https://<api-server>:6443 IMAGE=<registry>/ringtrain:0.1.0-spark4.1.0 \
#   INPUT=s3a://my-bucket/corpora/tinyshakespeare.txt CHECKPOINT_DIR=s3a://my-bucket/ringtrain/runs/gpt-small \
#     k8s/spark-submit/train.sh [more train flags, e.g. --steps 2000]
#
# Needs a local Spark of the pom's version (SPARK_HOME). Without the operator nothing restarts a
# failed application: Spark still retries a failed barrier stage inside the run, and running this
# script again continues from the newest checkpoint (--resume).
# Environment: K8S_API, IMAGE, INPUT, CHECKPOINT_DIR (required); NAMESPACE (default), WORLD_SIZE
# (2), TASK_CPUS (2), GPUS (0; 1 = one GPU per executor, needs the CUDA image), CONFIG (small.yaml),
# S3_SECRET (ringtrain-s3), SPARK_AUTH_SECRET (ringtrain-spark-auth: the Kubernetes Secret whose key
# "secret" authenticates Spark's own connections), SPARK_SUBMIT (default $SPARK_HOME/bin/spark-submit).
set -euo pipefail

: "${K8S_API:?set K8S_API to the Kubernetes API server URL, e.g. https://10.0.0.1:6443 (kubectl cluster-info)}"
: "${IMAGE:?set IMAGE to the ringtrain image, e.g. registry.example.com/ringtrain:0.1.0-spark4.1.0}"
: "${INPUT:?set INPUT to the corpus, e.g. s3a://bucket/corpora/tinyshakespeare.txt}"
: "${CHECKPOINT_DIR:?set CHECKPOINT_DIR, e.g. s3a://bucket/ringtrain/runs/gpt-small}"
NAMESPACE="${NAMESPACE:-default}"
WORLD_SIZE="${WORLD_SIZE:-2}"
TASK_CPUS="${TASK_CPUS:-2}"
GPUS="${GPUS:-0}"
CONFIG="${CONFIG:-small.yaml}"
S3_SECRET="${S3_SECRET:-ringtrain-s3}"
SPARK_AUTH_SECRET="${SPARK_AUTH_SECRET:-ringtrain-spark-auth}"
SPARK_SUBMIT="${SPARK_SUBMIT:-${SPARK_HOME:?set SPARK_HOME to a Spark 4.1.0 installation}/bin/spark-submit}"
LOG4J="-Dlog4j2.configurationFile=file:/opt/spark/conf-ringtrain/log4j2.properties"
# The fused kernels' vector helpers always inlined (docs/architecture.md#jvm-flags).
JIT="-XX:CompileCommand=quiet -XX:CompileCommand=inline,org.ringtrain.ops.kernels.Lanes::*"

conf=(
  --conf spark.kubernetes.namespace="$NAMESPACE"
  --conf spark.kubernetes.container.image="$IMAGE"
  --conf spark.kubernetes.authenticate.driver.serviceAccountName=ringtrain-spark
  --conf spark.serializer=org.apache.spark.serializer.KryoSerializer
  --conf spark.kryo.registrator=org.ringtrain.driver.serde.RingtrainKryoRegistrator
  --conf spark.kryo.registrationRequired=true
  # One rank per executor, every rank at once (a barrier stage).
  --conf spark.executor.instances="$WORLD_SIZE"
  --conf spark.executor.cores="$TASK_CPUS"
  --conf spark.task.cpus="$TASK_CPUS"
  --conf spark.executor.memory=4g
  --conf spark.executor.memoryOverhead=4g
  --conf spark.driver.cores=1
  --conf spark.driver.memory=2g
  --conf spark.dynamicAllocation.enabled=false
  --conf spark.speculation=false
  --conf spark.scheduler.minRegisteredResourcesRatio=1.0
  --conf spark.scheduler.maxRegisteredResourcesWaitingTime=600s
  --conf spark.scheduler.barrier.maxConcurrentTasksCheck.interval=15s
  --conf spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures=40
  --conf spark.barrier.sync.timeout=900s
  --conf spark.task.maxFailures=4
  --conf spark.stage.maxConsecutiveAttempts=4
  --conf spark.driver.extraJavaOptions="$LOG4J $JIT"
  --conf spark.executor.extraJavaOptions="$LOG4J $JIT"
  # Object-store credentials from the Secret, never on the command line.
  --conf spark.kubernetes.driver.secretKeyRef.AWS_ACCESS_KEY_ID="$S3_SECRET:access-key-id"
  --conf spark.kubernetes.driver.secretKeyRef.AWS_SECRET_ACCESS_KEY="$S3_SECRET:secret-access-key"
  --conf spark.kubernetes.executor.secretKeyRef.AWS_ACCESS_KEY_ID="$S3_SECRET:access-key-id"
  --conf spark.kubernetes.executor.secretKeyRef.AWS_SECRET_ACCESS_KEY="$S3_SECRET:secret-access-key"
  # Spark's own channels authenticated and encrypted, the secret mounted from a Kubernetes Secret
  # into the driver and every executor (never on this command line or in a pod env var).
  --conf spark.authenticate=true
  --conf spark.network.crypto.enabled=true
  --conf spark.io.encryption.enabled=true
  --conf spark.kubernetes.driver.secrets."$SPARK_AUTH_SECRET"=/opt/spark/secrets/spark-auth
  --conf spark.kubernetes.executor.secrets."$SPARK_AUTH_SECRET"=/opt/spark/secrets/spark-auth
  --conf spark.authenticate.secret.file=/opt/spark/secrets/spark-auth/secret
)
job_flags=()
if [ "$GPUS" != "0" ]; then
  # One GPU per executor and per rank; Spark requests nvidia.com/gpu for the pod from the vendor.
  conf+=(
    --conf spark.executor.resource.gpu.amount="$GPUS"
    --conf spark.executor.resource.gpu.vendor=nvidia.com
    --conf spark.executor.resource.gpu.discoveryScript=/opt/spark/scripts/getGpusResources.sh
    --conf spark.task.resource.gpu.amount="$GPUS"
  )
  # The driver has no GPU: no sample after training.
  job_flags+=(--sample-tokens 0)
fi

exec "$SPARK_SUBMIT" \
  --master "k8s://$K8S_API" \
  --deploy-mode cluster \
  --name ringtrain-gpt-small \
  --class org.ringtrain.jobs.RingtrainCli \
  "${conf[@]}" \
  local:///opt/spark/jars/ringtrain-app.jar \
  train --config "/opt/spark/conf-ringtrain/$CONFIG" --input "$INPUT" --checkpoint-dir "$CHECKPOINT_DIR" \
  --world-size "$WORLD_SIZE" --resume "${job_flags[@]}" "$@"
