/*
 * Tests of a text classifier started from a GPT backbone: a tiny byte-level GPT is trained here
 * for a few steps on unlabelled text (GptTrainer in local Spark), then used as the backbone: the
 * encoder's weights before the first step are the GPT's bit for bit; fit, transform, save and load
 * give identical predictions with the GPT's tokenizer; and bad backbones and conflicting params are
 * refused with their messages before any Spark work. Test code only.
 */
package org.ringtrain.driver.classify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.GptTrainer;
import org.ringtrain.driver.gpt.TrainConfig;
import org.ringtrain.driver.gpt.TrainedGpt;
import org.ringtrain.driver.train.ModelRecipe;
import org.ringtrain.ops.classify.ClassifierConfig;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.param.ParameterLayout;

class BackboneTest {
  private static final int T = 16; // the GPT's context length

  @TempDir
  static Path tmp;
  private static SparkSession spark;
  private static JavaSparkContext sc;
  private static HadoopSettings hadoop;
  private static String gptDir;

  /** A 2-block, width-16 byte GPT trained for 6 steps on windows of unlabelled sentences. */
  @BeforeAll
  static void trainTinyGpt() throws IOException {
    spark = SentimentFixtures.spark("BackboneTest");
    sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    hadoop = HadoopSettings.of(sc);
    gptDir = tmp.resolve("gpt").toString();
    byte[] text = String.join(" ", sentences(0, 40, true)).getBytes(StandardCharsets.UTF_8);
    List<int[]> windows = new ArrayList<>();
    for (int i = 0; i + T + 1 <= text.length && windows.size() < 64; i += T) {
      int[] w = new int[T + 1];
      for (int j = 0; j <= T; j++) {
        w[j] = text[i + j] & 0xff;
      }
      windows.add(w);
    }
    TrainConfig cfg = TrainConfig.fromLayers(Map.of("input", "unused-by-fit", "checkpointDir", gptDir,
        "contextLength", T, "dModel", 16, "layers", 2, "heads", 2),
        Map.of("worldSize", 2, "microBatch", 4, "steps", 6, "learningRate", 3e-3, "warmupSteps", 1),
        Map.of("evalEvery", 0, "checkpointEvery", 3, "checkReplicasEvery", 0, "bucketMb", 1,
            "ringTimeoutSeconds", 60));
    new GptTrainer(cfg).fit(sc, sc.parallelize(windows, 2), sc.parallelize(List.<int[]>of(), 2), "byte", 256);
  }

  @AfterAll
  static void stopSpark() {
    if (spark != null) {
      spark.stop();
    }
  }

  /** Rows of "good"/"bad" sentences; as words (whitespace-split) or, with {@code plain}, as text. */
  private static List<String> sentences(int from, int count, boolean plain) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      String mood = i % 2 == 0 ? "good" : "bad";
      out.add("Item " + (i % 7) + " was " + mood + (plain ? "." : ""));
    }
    return out;
  }

  private static Dataset<Row> labelled(int from, int count) {
    List<Row> rows = new ArrayList<>();
    for (String s : sentences(from, count, false)) {
      rows.add(SentimentFixtures.row(s.endsWith("good") ? 1 : 0, s.split(" ")));
    }
    return SentimentFixtures.tokenRows(spark, rows);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void theEncoderStartsBitwiseFromTheGptsBlocksWteAndWpe() throws IOException {
    Backbone backbone = Backbone.load(gptDir, hadoop);
    assertEquals("byte", backbone.tokenizerId());
    ClassifierConfig spec = backbone.classifierConfig(12, 2);
    assertTrue(spec.causal(), "causal attention as in pretraining");
    assertEquals(256 + Vocabulary.TOKENIZER_OFFSET, spec.vocabSize());
    TrainedGpt gpt = TrainedGpt.load(gptDir, hadoop);
    ClassifierRecipe recipe = new ClassifierRecipe(spec, null, sc.broadcast(backbone), "{}", 0);
    try (GptModel g = gpt.newModel(); ModelRecipe.Instance c = recipe.create(42, 2)) {
      ParameterLayout layout = c.model().layout();
      int checked = 0;
      for (ParameterLayout.TensorSpec t : layout.tensors()) {
        if (t.name().startsWith("h.") || t.name().startsWith("ln_f.")) {
          assertArrayEquals(values(g.params().view(t.name())), values(c.model().params().view(t.name())), 0f,
              t.name());
          checked++;
        }
      }
      assertEquals(layout.tensors().size() - 4, checked, "every trunk tensor compared");
      float[][] wte = g.params().view("wte.weight").toFloatMatrix();
      float[][] embed = c.model().params().view("embed.weight").toFloatMatrix();
      for (int v = 0; v < wte.length; v++) {
        assertArrayEquals(wte[v], embed[v + Vocabulary.TOKENIZER_OFFSET], 0f, "wte row " + v);
      }
      float[][] wpe = g.params().view("wpe.weight").toFloatMatrix();
      float[][] pos = c.model().params().view("pos.weight").toFloatMatrix();
      assertEquals(12, pos.length);
      for (int t = 0; t < pos.length; t++) {
        assertArrayEquals(wpe[t], pos[t], 0f, "wpe row " + t);
      }
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void fitTransformSaveAndLoadGiveIdenticalPredictionsWithTheGptsTokenizer() throws IOException {
    String ckDir = tmp.resolve("classifier-run").toString();
    TextClassifier classifier = new TextClassifier().setBackbone(gptDir).setEpochs(1).setBatchSize(8)
        .setWorldSize(2).setLr(3e-3).setCheckpointDir(ckDir);
    TextClassificationModel model = classifier.fit(labelled(0, 48));
    assertEquals("byte", model.vocabulary().tokenizerId().orElseThrow(), "the GPT's tokenizer, not words");
    int[] ids = new int[T];
    model.vocabulary().encode(List.of("Item", "was"), T, ids, 0);
    assertEquals('I' + Vocabulary.TOKENIZER_OFFSET, ids[0]);
    assertEquals(' ' + Vocabulary.TOKENIZER_OFFSET, ids[4], "words joined by one space");
    Dataset<Row> test = labelled(100, 10);
    List<Row> before = model.transform(test).select("probability").collectAsList();
    String path = tmp.resolve("model").toString();
    model.write().save(path);
    TextClassificationModel loaded = TextClassificationModel.load(path);
    assertEquals(model.vocabulary().sha256(), loaded.vocabulary().sha256());
    List<Row> after = loaded.transform(test).select("probability").collectAsList();
    for (int i = 0; i < before.size(); i++) {
      assertArrayEquals(((Vector) before.get(i).get(0)).toArray(), ((Vector) after.get(i).get(0)).toArray(), 0.0,
          "row " + i);
    }
    assertArrayEquals(model.predictProbabilities(List.of("Item", "3", "was", "good")),
        loaded.predictProbabilities(List.of("Item", "3", "was", "good")), 0.0, "the driver's prediction too");

    expect(() -> new TextClassifier().setBackbone(ckDir).readBackbone(hadoop), "holds no GPT checkpoint");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void badBackbonesAndConflictingParamsAreRefusedWithWhatToDo() throws IOException {
    expect(() -> new TextClassifier().setBackbone(tmp.resolve("missing").toString()).readBackbone(hadoop),
        "does not exist; expected the checkpoint directory of a GPT run");
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    expect(() -> new TextClassifier().setBackbone(empty.toString()).readBackbone(hadoop), "holds no GPT checkpoint");
    Path junk = Files.writeString(tmp.resolve("junk.safetensors"), "not a safetensors file");
    expect(() -> new TextClassifier().setBackbone(junk.toString()).readBackbone(hadoop), "junk.safetensors");
    Path corrupt = corruptCopy();
    expect(() -> new TextClassifier().setBackbone(corrupt.toString()).readBackbone(hadoop), "no valid checkpoint");

    expect(() -> new TextClassifier().setBackbone(gptDir).setD(32).readBackbone(hadoop),
        "d=32 was set, but backbone");
    expect(() -> new TextClassifier().setBackbone(gptDir).setMaxLen(T + 1).readBackbone(hadoop),
        "maxLen=17 is longer than backbone");
    Dataset<Row> rows = labelled(0, 8);
    expect(() -> new TextClassifier().setBackbone(gptDir).setWordVectorsPath("glove.txt").fit(rows),
        "give one or the other");
    expect(() -> new TextClassifier().setBackbone(gptDir).setArchitecture("lstm").fit(rows),
        "a backbone is a GPT and starts a transformer");
  }

  /** A copy of the GPT's checkpoint directory with every weights file cut in half. */
  private static Path corruptCopy() throws IOException {
    Path from = Path.of(gptDir);
    Path to = tmp.resolve("corrupt");
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : all.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          byte[] bytes = Files.readAllBytes(p);
          boolean weights = p.getFileName().toString().endsWith(".safetensors");
          Files.write(target, weights ? java.util.Arrays.copyOf(bytes, bytes.length / 2) : bytes);
        }
      }
    }
    return to;
  }

  /** Every element of a tensor view, row-major. */
  private static float[] values(INDArray view) {
    return view.dup().reshape(view.length()).toFloatVector();
  }

  private static void expect(Executable call, String part) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
  }
}
