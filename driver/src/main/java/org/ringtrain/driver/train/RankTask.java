// The function each barrier task runs: everything a rank needs travels in this
// object (config, ring settings with the run secret, the driver's metrics
// endpoint, Hadoop settings for checkpoints, the broadcast of every training
// row); its partition holds the rank's validation rows. It joins the ring through
// BarrierTaskContext, applies the rank's ND4J thread policy (Nd4jRuntime) and
// hands over to RankLoop, which it tells whether Spark killed the task. Logging of the ND4J backend happens once per
// executor JVM.
package org.ringtrain.driver.train;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.metrics.MetricsClient;
import org.ringtrain.ops.runtime.Nd4jRuntime;
import org.ringtrain.sync.RingCommunicator;
import org.ringtrain.sync.RingConfig;
import org.ringtrain.sync.RingSecret;
import org.ringtrain.sync.spark.SparkBarrierRendezvous;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/** The barrier task body: one instance is serialised into every rank's task. */
final class RankTask extends AbstractFunction1<Iterator<int[][]>, Iterator<RankResult>> implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(RankTask.class);
  private static volatile boolean backendLogged;

  private final LoopConfig cfg;
  private final ModelRecipe recipe;
  private final String tokenizerId;
  private final String runId;
  private final RingSecret secret;
  private final String metricsHost;
  private final int metricsPort;
  private final HadoopSettings hadoop;
  private final FaultPlan fault;
  private final Broadcast<int[][]> trainRows;

  RankTask(LoopConfig cfg, ModelRecipe recipe, String tokenizerId, String runId, RingSecret secret,
      String metricsHost, int metricsPort, HadoopSettings hadoop, FaultPlan fault, Broadcast<int[][]> trainRows) {
    this.cfg = cfg;
    this.recipe = recipe;
    this.tokenizerId = tokenizerId;
    this.runId = runId;
    this.secret = secret;
    this.metricsHost = metricsHost;
    this.metricsPort = metricsPort;
    this.hadoop = hadoop;
    this.fault = fault;
    this.trainRows = trainRows;
  }

  @Override
  public Iterator<RankResult> apply(Iterator<int[][]> partition) {
    BarrierTaskContext ctx = BarrierTaskContext.get();
    // One copy of the training rows per executor JVM: the ranks it runs share the broadcast value.
    RankData data = new RankData(trainRows.value(), partition.hasNext() ? partition.next() : new int[0][]);
    ThreadSettings threads = cfg.threads();
    Nd4jRuntime.useThreads(Nd4jRuntime.Threads.forRank(threads.threadsPerRank(), threads.opThreadsPerRank(),
        ctx.cpus()));
    logBackendOnce();
    // A new run id per stage attempt: a straggler of a failed attempt can never join the new ring.
    RingSettings rs = cfg.ring();
    RingConfig ring = RingConfig.defaults(runId + "/attempt-" + ctx.stageAttemptNumber(), secret)
        .withBindHost(rs.ringBindHost().isEmpty() ? null : rs.ringBindHost())
        .withCodec(rs.ringCodec())
        .withTransport(rs.ringTransport())
        .withProtection(rs.ringProtection())
        .withSocketDir(rs.ringSocketDir().isEmpty() ? null : rs.ringSocketDir())
        .withTimeouts(RingConfig.DEFAULT_CONNECT_TIMEOUT, RingConfig.DEFAULT_HANDSHAKE_TIMEOUT,
            Duration.ofSeconds(rs.ringTimeoutSeconds()));
    CheckpointStore store = new CheckpointStore(hadoop, cfg.checkpoints().checkpointDir(),
        cfg.checkpoints().keepCheckpoints(), runId);
    try (RingCommunicator comm = RingCommunicator.connect(ring, new SparkBarrierRendezvous(ctx));
         MetricsClient metrics = comm.rank() == 0
             ? new MetricsClient(metricsHost, metricsPort, secret, ctx.stageAttemptNumber()) : null) {
      // Spark kills the other tasks of a failed barrier stage without interrupting them; the loop
      // asks between steps, so a killed rank frees its slot for the retry within one step.
      RankResult result = new RankLoop(cfg, recipe, tokenizerId, comm, store, metrics, fault,
          ctx.stageAttemptNumber(), ctx::isInterrupted).run(data);
      return CollectionConverters.asScala(List.of(result).iterator());
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("rank " + ctx.partitionId() + " failed: " + e.getMessage(), e);
    }
  }

  private static void logBackendOnce() {
    if (backendLogged) {
      return;
    }
    backendLogged = true;
    LOG.info("{} per rank, JVM heap limit {} MiB", Nd4jRuntime.describe(),
        Runtime.getRuntime().maxMemory() >> 20);
  }
}
