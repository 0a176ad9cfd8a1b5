// A SparkListener that records what Spark ran: job descriptions, and which executors ran the
// tasks of each stage. Tests add it to their context, or name it in spark.extraListeners for a
// context the code under test creates (the CLI), and read the newest instance. It asserts nothing.
package org.ringtrain.jobs.cluster;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskStart;

/** Records job descriptions and task placements; Spark calls it on its listener-bus thread. */
public final class SparkJobRecorder extends SparkListener {
  private static volatile SparkJobRecorder newest;

  private final List<String> jobDescriptions = new CopyOnWriteArrayList<>();
  private final Map<Integer, String> stageNames = new ConcurrentHashMap<>();
  private final Map<Integer, Integer> stageTasks = new ConcurrentHashMap<>();
  private final List<Placement> placements = new CopyOnWriteArrayList<>();

  /** Where one task attempt ran; {@code partition} is the task's partition (a barrier stage's rank). */
  record Placement(int stageId, int stageAttempt, int partition, String executorId, String host) {
  }

  /** A recorder; the newest one is also reachable through {@link #newest()} (for spark.extraListeners). */
  public SparkJobRecorder() {
    newest = this;
  }

  /** The recorder created last, or null. */
  static SparkJobRecorder newest() {
    return newest;
  }

  @Override
  public void onJobStart(SparkListenerJobStart job) {
    String description = job.properties() == null ? null : job.properties().getProperty("spark.job.description");
    jobDescriptions.add(description == null ? "" : description);
  }

  @Override
  public void onStageSubmitted(SparkListenerStageSubmitted stage) {
    stageNames.put(stage.stageInfo().stageId(), stage.stageInfo().name());
    stageTasks.put(stage.stageInfo().stageId(), stage.stageInfo().numTasks());
  }

  @Override
  public void onTaskStart(SparkListenerTaskStart task) {
    placements.add(new Placement(task.stageId(), task.stageAttemptId(), task.taskInfo().partitionId(),
        task.taskInfo().executorId(), task.taskInfo().host()));
  }

  /** Descriptions of every job started so far (empty string for none). */
  List<String> jobDescriptions() {
    return List.copyOf(jobDescriptions);
  }

  /** Hosts of the task attempts of stages named {@code name} with {@code numTasks} tasks, in start order. */
  List<String> hostsOfStages(String name, int numTasks) {
    return placementsOfStages(name, numTasks).stream().map(Placement::host).toList();
  }

  /** The task attempts of stages named {@code name} with {@code numTasks} tasks, in start order. */
  List<Placement> placementsOfStages(String name, int numTasks) {
    return placements.stream().filter(p -> name.equals(stageNames.get(p.stageId()))
        && Integer.valueOf(numTasks).equals(stageTasks.get(p.stageId()))).toList();
  }

  /** Executor ids of the task attempts of stages named {@code name} with {@code numTasks} tasks, per stage attempt. */
  Map<String, Set<String>> executorsOfStages(String name, int numTasks) {
    Map<String, Set<String>> out = new java.util.TreeMap<>();
    for (Placement p : placements) {
      if (name.equals(stageNames.get(p.stageId())) && Integer.valueOf(numTasks).equals(stageTasks.get(p.stageId()))) {
        out.computeIfAbsent(p.stageId() + "." + p.stageAttempt(), k -> new TreeSet<>()).add(p.executorId());
      }
    }
    return out;
  }
}
