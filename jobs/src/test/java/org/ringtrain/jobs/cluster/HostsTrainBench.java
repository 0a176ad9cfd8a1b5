// The benchmark behind bench/train-hosts.sh: the data-parallel step of the small GPT (conf/small.yaml)
// with its K ranks on K "hosts" (network namespaces, a Spark standalone Worker in each, the Master in
// one more) joined by tbf-limited links, with the fp32 and the bf16 wire; then, for reference, the
// same runs in local mode in this JVM (one namespace: the ranks link over Unix sockets, no limit).
// Per run it reports rank 0's step split as the trainer's metrics record it (compute = forward +
// backward, the gradient buckets travelling the ring meanwhile; exposed communication = the wait for
// the buckets after backward), the share of the step that wait takes, and the bytes each rank's
// link carried per step (the namespace's eth0 counters, headers included) beside the ring's payload
// 2(N-1)/N x gradient bytes. It is a command, not a test; it lives beside the cluster fixture it drives.
package org.ringtrain.jobs.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.ringtrain.driver.data.CorpusLoader;
import org.ringtrain.driver.data.DatasetSpec;
import org.ringtrain.driver.gpt.GptTrainer;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.gpt.TrainedGpt;
import org.ringtrain.driver.metrics.MetricsEvent;
import org.ringtrain.sync.netns.NetnsHosts;

/** {@code HostsTrainBench [--hosts K] [--link-rate R] [--codecs fp32,bf16] [--warmup W] [--timed T] ...}. */
public final class HostsTrainBench {
  private static final String USAGE = String.join("\n",
      "usage: bench/train-hosts.sh [--hosts K] [--link-rate R] [--codecs C[,C]] [--warmup W] [--timed T]",
      "                            [--micro-batch B] [--executor-memory M] [--no-reference] [--data FILE]",
      "  --hosts            ranks, each on a host (network namespace) of its own; default 2",
      "  --link-rate        tbf rate of every host link, both directions (kbit/mbit/gbit); default 1gbit",
      "  --codecs           ring wire codecs to compare; default fp32,bf16",
      "  --warmup, --timed  steps per run: W warm-up, then T timed (then 1 final step, not timed, that",
      "                     writes the checkpoint); default 1 and 3",
      "  --micro-batch      sequences per rank per step; default 8 (conf/small.yaml's)",
      "  --executor-memory  each rank's executor JVM; default 2g",
      "  --no-reference     skip the same runs in local mode (one namespace, no link limit)",
      "  --data             the corpus; default data/moby-dick.txt",
      "examples:",
      "  bench/train-hosts.sh                                   # K=2, 1 Gbit/s, fp32 and bf16, ~5-8 minutes",
      "  bench/train-hosts.sh --codecs bf16 --timed 2 --no-reference");
  private static final Duration STARTUP = Duration.ofMinutes(6);

  private HostsTrainBench() {
  }

  /** What the bench is told to do. */
  private record Options(int hosts, String rate, List<String> codecs, int warmup, int timed, int microBatch,
      String executorMemory, boolean reference, Path data) {
    int totalSteps() {
      return warmup + timed + 1;
    }
  }

  /** One run's timed steps, averaged: rank 0's metrics, and the bytes per rank's link (-1: not measured). */
  private record Row(String where, String codec, double stepMs, double computeMs, double exposedMs, double spanMs,
      double wireMbPerRank, double payloadMbPerRank, String load) {
  }

  /** Runs the cluster rows, then the reference rows, and prints the table; exit status 2 on bad input. */
  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = parse(args);
      if (o == null) {
        System.out.println(USAGE);
        return;
      }
    } catch (RuntimeException e) {
      System.err.println("train-hosts.sh: " + e.getMessage() + "\n" + USAGE);
      System.exit(2);
      return;
    }
    String unavailable = NetnsHosts.unavailableReason();
    if (unavailable != null) {
      System.err.println("train-hosts.sh: cannot make hosts here: " + unavailable);
      System.exit(2);
    }
    Path work = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "train-hosts-");
    List<Row> rows = new ArrayList<>();
    System.out.printf("small config at K=%d over %s links: %d warm-up + %d timed steps per run, micro-batch %d;"
        + " work dir %s%n", o.hosts(), o.rate(), o.warmup(), o.timed(), o.microBatch(), work);
    try (NetnsHosts hosts = NetnsHosts.create(o.hosts() + 1, o.rate());
         StandaloneCluster cluster = StandaloneCluster.start(work.resolve("spark"),
             StandaloneCluster.Layout.hosts(hosts), 1, o.executorMemory(), STARTUP)) {
      progress("cluster: Master in host 0, a one-core Worker in hosts 1-" + o.hosts() + " (" + hosts + ")");
      JavaSparkContext sc = new JavaSparkContext(ShippedSparkConf.onCluster(cluster, o.executorMemory(),
          "HostsTrainBench"));
      try {
        ClusterAssertions.awaitExecutors(sc, o.hosts(), cluster, STARTUP);
        for (String codec : o.codecs()) {
          rows.add(run(sc, o, codec, work, o.hosts() + " hosts, " + o.rate(), hosts));
        }
      } finally {
        sc.stop();
      }
    }
    if (o.reference()) {
      JavaSparkContext sc = new JavaSparkContext(ShippedSparkConf.local("local[" + o.hosts() + ",4]",
          "HostsTrainBench-local"));
      try {
        for (String codec : o.codecs()) {
          rows.add(run(sc, o, codec, work, "1 namespace, local[" + o.hosts() + "], no limit", null));
        }
      } finally {
        sc.stop();
      }
    }
    System.out.println();
    System.out.println("| ranks on | codec | step ms | compute ms | exposed comm ms | exposed share | comm span ms"
        + " | hidden | wire MB/rank/step | ring payload MB/rank/step | load (1 min) |");
    System.out.println("|:--|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for (Row r : rows) {
      System.out.println(String.format(Locale.ROOT, "| %s | %s | %.0f | %.0f | %.0f | %.1f%% | %.0f | %.1f%% | %s |"
          + " %.1f | %s |", r.where(), r.codec(), r.stepMs(), r.computeMs(), r.exposedMs(),
          100 * r.exposedMs() / r.stepMs(), r.spanMs(), 100 * (1 - r.exposedMs() / r.spanMs()),
          r.wireMbPerRank() < 0 ? "-" : String.format(Locale.ROOT, "%.1f", r.wireMbPerRank()),
          r.payloadMbPerRank(), r.load()));
    }
  }

  /** One training run of the small config; {@code hosts} null for local mode (no link counters). */
  private static Row run(JavaSparkContext sc, Options o, String codec, Path work, String where, NetnsHosts hosts)
      throws Exception {
    String run = (hosts == null ? "local-" : "hosts-") + codec;
    progress(run + ": starting (load " + load() + ")");
    TrainConfig cfg = config(o, codec, work.resolve(run));
    List<MetricsEvent> steps = new ArrayList<>();
    long[] sentAt = new long[2]; // bytes sent by every rank's host when the warm-up ended and the timed steps did
    GptTrainer trainer = new GptTrainer(cfg).withMetricsSink(e -> {
      if (!e.event().equals("step")) {
        return;
      }
      long step = (long) e.number("step");
      if (hosts != null && (step == o.warmup() || step == o.warmup() + o.timed())) {
        long sent = 0;
        for (int h = 1; h <= o.hosts(); h++) {
          sent += hosts.linkBytes(h)[0];
        }
        sentAt[step == o.warmup() ? 0 : 1] = sent;
      }
      if (step > o.warmup() && step <= o.warmup() + o.timed()) {
        steps.add(e);
      }
    });
    TrainedGpt trained = trainer.fit(sc, CorpusLoader.load(sc, new DatasetSpec(o.data().toUri().toString(),
        DatasetSpec.Format.TEXT, "byte", cfg.contextLength(), cfg.validationFraction(), o.hosts())));
    if (steps.size() != o.timed()) {
      throw new IllegalStateException(run + ": expected " + o.timed() + " timed step events, but found "
          + steps.size() + "; see " + cfg.loop().resolvedMetricsLog());
    }
    int bytesPerElement = codec.equals("bf16") ? 2 : 4;
    double payload = 2.0 * (o.hosts() - 1) / o.hosts() * trained.weights().length * bytesPerElement / 1e6;
    double wire = hosts == null ? -1 : (sentAt[1] - sentAt[0]) / 1e6 / o.hosts() / o.timed();
    Row row = new Row(where, codec, mean(steps, "step_ms"), mean(steps, "compute_ms"), mean(steps, "comm_exposed_ms"),
        mean(steps, "comm_span_ms"), wire, payload, load());
    progress(String.format(Locale.ROOT, "%s: step %.0f ms, compute %.0f ms, exposed comm %.0f ms per step; %d"
        + " parameters", run, row.stepMs(), row.computeMs(), row.exposedMs(), trained.weights().length));
    return row;
  }

  /** conf/small.yaml with this run's ranks, micro-batch, steps and codec; a checkpoint only at the end. */
  @SuppressWarnings("unchecked")
  private static TrainConfig config(Options o, String codec, Path runDir) throws Exception {
    Path small = Path.of("conf/small.yaml");
    Map<String, Object> shape = new ObjectMapper(new YAMLFactory()).readValue(small.toFile(), LinkedHashMap.class);
    return TrainConfig.fromLayers(shape, Map.of("input", o.data().toUri().toString(),
        "checkpointDir", runDir.toUri().toString(), "worldSize", o.hosts(), "microBatch", o.microBatch(),
        "steps", o.totalSteps(), "ringCodec", codec, "warmupSteps", 2),
        // Validation, the replica check and the checkpoint only at the last step, which is not timed.
        Map.of("evalEvery", 0, "evalBatches", 1, "checkReplicasEvery", 0, "checkpointEvery", o.totalSteps(),
            "keepCheckpoints", 1, "unsafeKeepOne", true));
  }

  private static Options parse(String[] args) {
    Map<String, String> v = new LinkedHashMap<>(Map.of("--hosts", "2", "--link-rate", NetnsHosts.DEFAULT_RATE,
        "--codecs", "fp32,bf16", "--warmup", "1", "--timed", "3", "--micro-batch", "8", "--executor-memory", "2g",
        "--data", "data/moby-dick.txt"));
    boolean reference = true;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--help") || args[i].equals("-h")) {
        return null;
      } else if (args[i].equals("--no-reference")) {
        reference = false;
      } else if (v.containsKey(args[i]) && i + 1 < args.length) {
        v.put(args[i], args[++i]);
      } else {
        throw new IllegalArgumentException("expected one of the flags below (each with a value), but found '"
            + args[i] + "'");
      }
    }
    Options o = new Options(Integer.parseInt(v.get("--hosts")), v.get("--link-rate"),
        List.of(v.get("--codecs").split(",")), Integer.parseInt(v.get("--warmup")), Integer.parseInt(v.get("--timed")),
        Integer.parseInt(v.get("--micro-batch")), v.get("--executor-memory"), reference, Path.of(v.get("--data")));
    if (o.hosts() < 2 || o.hosts() > 8 || o.warmup() < 1 || o.timed() < 1 || o.microBatch() < 1
        || o.rate().equals("none") || !o.executorMemory().matches("[1-9][0-9]*[mg]")
        || !o.codecs().stream().allMatch(c -> c.equals("fp32") || c.equals("bf16")) || !Files.isRegularFile(o.data())) {
      throw new IllegalArgumentException("expected --hosts in [2, 8], --warmup and --timed >= 1, --micro-batch >= 1, a"
          + " limited --link-rate, --executor-memory like 2g, --codecs of fp32/bf16 and an existing --data file, but"
          + " found " + o + "; run from the checkout's root");
    }
    NetnsHosts.bitsPerSecond(o.rate()); // refuses a malformed rate with what it expects
    return o;
  }

  private static double mean(List<MetricsEvent> events, String key) {
    return events.stream().mapToDouble(e -> e.number(key)).average().orElse(Double.NaN);
  }

  private static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (java.io.IOException e) {
      return "?";
    }
  }

  private static void progress(String line) {
    System.out.println("[" + java.time.LocalTime.now().withNano(0) + "] " + line);
  }
}
