// Test helper of HostsClusterTrainingTest: a metrics sink that cuts the network link of the host
// running the training stage's last-started rank when rank 0 reports a given step, and brings it
// back after a delay or only when the test ends (a host that never comes back). It records the
// checkpoints written before the cut and the failures that follow; it asserts nothing.
package org.ringtrain.jobs.cluster;

import java.time.Duration;
import java.util.List;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.driver.metrics.MetricsSink;
import org.ringtrain.sync.netns.NetnsHosts;

/**
 * Runs on the metrics server's thread; records rather than throws, since the server only logs a
 * sink's exception. {@link #restore()} (the test's cleanup) brings the link back in either case.
 */
final class LinkCutter implements MetricsSink {
  private final NetnsHosts hosts;
  private final SparkJobRecorder placements;
  private final String stageName;
  private final int world;
  private final long cutAtStep;
  private final Duration restoreAfter;
  volatile int cutHost = -1;
  volatile int cutRank = -1;
  volatile long cutAtNanos;
  volatile long newestCheckpointBeforeCut = -1;
  volatile long failedAtNanos;
  volatile String failureMessage;
  volatile String problem;
  private Thread restorer;

  /**
   * @param stageName    the training stage's name, as SparkJobRecorder sees it
   * @param world        the run's ranks (tasks of the training stage)
   * @param cutAtStep    the step of rank 0's report that triggers the cut
   * @param restoreAfter when to bring the link back after the cut; null: only in {@link #restore()}
   */
  LinkCutter(NetnsHosts hosts, SparkJobRecorder placements, String stageName, int world, long cutAtStep,
      Duration restoreAfter) {
    this.hosts = hosts;
    this.placements = placements;
    this.stageName = stageName;
    this.world = world;
    this.cutAtStep = cutAtStep;
    this.restoreAfter = restoreAfter;
  }

  @Override
  public synchronized void accept(MetricsEvent event) {
    if (event.event().equals("checkpoint") && cutHost < 0) {
      newestCheckpointBeforeCut = (long) event.number("step");
    } else if (event.event().equals("failure") && failureMessage == null) {
      failedAtNanos = System.nanoTime();
      failureMessage = String.valueOf(event.fields().get("message"));
    } else if (event.event().equals("step") && event.number("step") >= cutAtStep && cutHost < 0 && problem == null) {
      cut();
    }
  }

  private void cut() {
    List<SparkJobRecorder.Placement> ranks = placements.placementsOfStages(stageName, world);
    SparkJobRecorder.Placement victim = ranks.isEmpty() ? null : ranks.get(ranks.size() - 1);
    for (int h = 1; victim != null && h < hosts.size(); h++) {
      if (hosts.address(h).equals(victim.host())) {
        hosts.linkDown(h);
        cutAtNanos = System.nanoTime();
        cutHost = h;
        cutRank = victim.partition();
        if (restoreAfter != null) {
          int cut = h;
          restorer = new Thread(() -> {
            try {
              Thread.sleep(restoreAfter.toMillis());
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            hosts.linkUp(cut);
          }, "link-restorer");
          restorer.start();
        }
        return;
      }
    }
    problem = "no fixture host runs a rank of the training stage; its tasks ran on "
        + ranks.stream().map(SparkJobRecorder.Placement::host).toList();
  }

  /** Brings the link back: waits for the timed restore, or restores a link cut for good now. */
  void restore() throws InterruptedException {
    Thread timed;
    int host;
    synchronized (this) {
      timed = restorer;
      host = cutHost;
    }
    if (timed != null) {
      timed.join();
    } else if (host > 0) {
      hosts.linkUp(host);
    }
  }
}
