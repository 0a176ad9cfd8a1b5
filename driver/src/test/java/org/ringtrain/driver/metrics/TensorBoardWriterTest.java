// TensorBoardWriter: the event file read back by an independent reader
// (EventFileReader) from a synthetic metrics stream, and from a real two-rank
// training run in local Spark compared with that run's JSON-lines log.
// Not tested here: TensorBoard itself (no Python in the build).
package org.ringtrain.driver.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.GptTrainer;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.metrics.EventFileReader.Event;

@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TensorBoardWriterTest {
  @TempDir
  Path tmp;

  private static MetricsEvent step(long step, long timeMs) {
    return MetricsEvent.of("step").with("time", timeMs).with("step", step).with("total_steps", 5)
        .with("loss", 5.5 - 0.25 * step).with("lr", 1e-3 * step).with("grad_norm", 2.0 / step)
        .with("step_ms", 100.0 + step).with("compute_ms", 80.0 + step).with("comm_exposed_ms", 5.0 + step)
        .with("comm_span_ms", 30.0 + step).with("buckets", 3).with("tokens_per_s", 1000.0 * step)
        .with("epoch", 0);
  }

  private static MetricsEvent eval(long step, long timeMs, double valLoss) {
    return MetricsEvent.of("eval").with("time", timeMs).with("step", step).with("val_loss", valLoss)
        .with("perplexity", Math.exp(valLoss));
  }

  private static Path onlyEventFile(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> all = files.filter(f -> f.getFileName().toString().startsWith("events.out.tfevents.")).toList();
      assertEquals(1, all.size(), "one event file in " + dir + ": " + all);
      return all.get(0);
    }
  }

  /** (tag, step) -> value of every scalar in the file, failing on a duplicate. */
  private static Map<String, Float> scalars(List<Event> events) {
    Map<String, Float> byTagStep = new LinkedHashMap<>();
    for (Event e : events) {
      for (EventFileReader.Value v : e.values()) {
        Float old = byTagStep.put(v.tag() + "@" + e.step(), v.simpleValue());
        assertEquals(null, old, "two values for " + v.tag() + " at step " + e.step());
      }
    }
    return byTagStep;
  }

  @Test
  void writesTheFileVersionFirstThenOneScalarPerMetricAtTheStepAndTimeOfItsEvent() throws IOException {
    List<MetricsEvent> stream = new ArrayList<>();
    stream.add(MetricsEvent.of("resume").with("time", 1_700_000_000_000L).with("step", 0).with("attempt", 0));
    for (long s = 1; s <= 5; s++) {
      stream.add(step(s, 1_700_000_000_000L + 1000 * s));
    }
    stream.add(eval(5, 1_700_000_005_500L, 3.25));
    stream.add(MetricsEvent.of("checkpoint").with("step", 5).with("path", "x/step-000000005"));
    stream.add(MetricsEvent.of("done").with("step", 5).with("loss", 4.25).with("val_loss", 3.25));

    Path dir = tmp.resolve("tb");
    try (TensorBoardWriter writer = new TensorBoardWriter(dir.toString(), HadoopSettings.defaults())) {
      stream.forEach(writer::accept);
    }
    Path file = onlyEventFile(dir);
    assertTrue(file.getFileName().toString().matches("events\\.out\\.tfevents\\.\\d{10}\\..+"), file.toString());
    List<Event> events = EventFileReader.read(file);

    assertEquals(TensorBoardWriter.FILE_VERSION, events.get(0).fileVersion(), "first record: the file version");
    assertEquals(1, events.get(1).sessionLogStatus(), "the start is a SessionLog START");
    Map<String, Float> got = scalars(events.subList(2, events.size()));
    Map<String, Float> want = new LinkedHashMap<>();
    for (MetricsEvent e : stream) {
      List<Map.Entry<String, String>> table = switch (e.event()) {
        case "step" -> TensorBoardWriter.STEP_SCALARS;
        case "eval" -> TensorBoardWriter.EVAL_SCALARS;
        default -> List.of();
      };
      for (Map.Entry<String, String> s : table) {
        want.put(s.getValue() + "@" + (long) e.number("step"), (float) e.number(s.getKey()));
      }
    }
    assertEquals(want, got, "every (tag, step) and value, nothing from checkpoint or done events");
    assertEquals(8 * 5 + 2, got.size());
    for (Event e : events.subList(2, events.size())) {
      assertEquals(1, e.values().size(), "one scalar per event");
      long ms = e.values().get(0).tag().startsWith("val/") ? 1_700_000_005_500L : 1_700_000_000_000L + 1000 * e.step();
      assertEquals(ms / 1000.0, e.wallTime(), 1e-9, "wall time of " + e);
    }
  }

  @Test
  void everyRecordIsReadableBeforeTheWriterIsClosed() throws IOException {
    Path dir = tmp.resolve("live");
    try (TensorBoardWriter writer = new TensorBoardWriter(dir.toString(), HadoopSettings.defaults())) {
      writer.accept(step(1, 1_700_000_001_000L));
      // TensorBoard reads the file while training goes on: what hflush pushed must parse completely.
      List<Event> events = EventFileReader.read(onlyEventFile(dir));
      assertEquals(1 + TensorBoardWriter.STEP_SCALARS.size(), events.size());
    }
  }

  @Test
  void aResumeFromCheckpointStepSMarksARestartAtStepSPlusOne() throws IOException {
    Path dir = tmp.resolve("resume");
    try (TensorBoardWriter writer = new TensorBoardWriter(dir.toString(), HadoopSettings.defaults())) {
      writer.accept(MetricsEvent.of("resume").with("step", 40).with("attempt", 1).with("path", "x/step-000000040"));
    }
    Event start = EventFileReader.read(onlyEventFile(dir)).get(1);
    assertEquals(41, start.step(), "TensorBoard drops points at and after this step written before it");
    assertEquals(1, start.sessionLogStatus());
    assertEquals(List.of(), start.values());
  }

  @Test
  void absentMetricsAreLeftOutRatherThanWrittenAsNaN() throws IOException {
    Path dir = tmp.resolve("partial");
    try (TensorBoardWriter writer = new TensorBoardWriter(dir.toString(), HadoopSettings.defaults())) {
      writer.accept(MetricsEvent.of("step").with("step", 1).with("loss", 2.5));
    }
    assertEquals(Map.of("train/loss@1", 2.5f), scalars(EventFileReader.read(onlyEventFile(dir))));
  }

  @Test
  void mfuIsThroughputTimesFlopsPerTokenOverThePeakOfAllRanks() throws IOException {
    TensorBoardWriter.Mfu mfu = TensorBoardWriter.Mfu.forGpt(1_000_000, 4, 128, 64, 2 * 1e12);
    assertEquals(6e6 + 12.0 * 4 * 128 * 64, mfu.flopsPerToken());
    Path dir = tmp.resolve("mfu");
    try (TensorBoardWriter writer = new TensorBoardWriter(dir.toString(), HadoopSettings.defaults(), mfu)) {
      writer.accept(step(2, 0));
    }
    float expected = (float) (2000.0 * mfu.flopsPerToken() / 2e12);
    assertEquals(expected, scalars(EventFileReader.read(onlyEventFile(dir))).get("mfu@2"));
    assertThrows(IllegalArgumentException.class, () -> new TensorBoardWriter.Mfu(1e6, 0));
  }

  @Test
  void twoWritersOnOneDirectoryInTheSameSecondWriteTwoFiles() throws IOException {
    Path dir = tmp.resolve("two");
    try (TensorBoardWriter a = new TensorBoardWriter(dir.toString(), HadoopSettings.defaults());
         TensorBoardWriter b = new TensorBoardWriter(dir.toString(), HadoopSettings.defaults())) {
      assertNotEquals(a.path(), b.path());
    }
  }

  @Test
  void anEmptyLogDirectoryIsRejectedWithAnExample() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new TensorBoardWriter(" ", HadoopSettings.defaults()));
    assertTrue(e.getMessage().contains("hdfs:///"), e.getMessage());
  }

  @Test
  void aTwoRankTrainingRunWritesTheSameStepsAndValuesAsItsJsonLinesLog() throws Exception {
    int vocab = 256;
    int t = 16;
    List<int[]> rows = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      int[] s = new int[t + 1];
      for (int j = 0; j <= t; j++) {
        s[j] = (i * 7 + j * 3) % vocab;
      }
      rows.add(s);
    }
    TrainConfig cfg = TrainConfig.fromLayers(Map.of("input", "unused-by-fit",
            "checkpointDir", tmp.resolve("run").toString(), "contextLength", t, "dModel", 32, "layers", 2,
            "heads", 2),
        Map.of("worldSize", 2, "microBatch", 4, "steps", 6L, "learningRate", 3e-3, "minLearningRate", 3e-4),
        Map.of("warmupSteps", 1, "evalEvery", 3, "evalBatches", 1, "checkpointEvery", 6, "bucketMb", 1,
            "ringTimeoutSeconds", 60));
    Path dir = tmp.resolve("run-tb");
    JavaSparkContext sc = new JavaSparkContext(new SparkConf().setMaster("local[2]")
        .setAppName("TensorBoardWriterTest").set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1").set("spark.ui.enabled", "false")
        .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .set("spark.kryo.registrator", "org.ringtrain.driver.serde.RingtrainKryoRegistrator")
        .set("spark.kryo.registrationRequired", "true"));
    try (TensorBoardWriter writer = new TensorBoardWriter(dir.toString(), HadoopSettings.defaults())) {
      new GptTrainer(cfg).withMetricsSink(writer)
          .fit(sc, sc.parallelize(rows.subList(0, 32), 2), sc.parallelize(rows.subList(32, 40), 2), "byte", vocab);
    } finally {
      sc.stop();
    }

    Map<String, Float> want = new LinkedHashMap<>();
    for (String line : Files.readAllLines(Path.of(cfg.loop().resolvedMetricsLog()))) {
      MetricsEvent e = MetricsEvent.fromJson(line);
      long s = (long) e.number("step");
      switch (e.event()) {
        case "step" -> {
          TensorBoardWriter.STEP_SCALARS.forEach(m -> want.put(m.getValue() + "@" + s,
              (float) e.number(m.getKey())));
          want.put("mfu@" + s, (float) e.number("mfu")); // rank 0 measures the peak and reports MFU
        }
        case "eval" -> TensorBoardWriter.EVAL_SCALARS.forEach(m -> want.put(m.getValue() + "@" + s,
            (float) e.number(m.getKey())));
        default -> { }
      }
    }
    assertEquals(6 * 9 + 2 * 2, want.size(), "6 step and 2 eval events in the JSON-lines log");
    assertEquals(want, scalars(EventFileReader.read(onlyEventFile(dir))));
  }
}
