// The classifier jobs as a user runs them: train-classifier on a slice of the
// shipped sentiment corpus, then classify with explanations on its saved
// pipeline, and the input errors both report with exit status 2. Test code only.
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ClassifierJobsTest {
  private static final Path CORPUS = Path.of("../data/sentiment/sentences.jsonl");

  @TempDir
  Path tmp;

  private static CliRun run(String... args) {
    return CliRun.run(args);
  }


  /** Every 6th line of the corpus: 500 sentences from all three sources, both classes. */
  private Path slice() throws IOException {
    List<String> lines = Files.readAllLines(CORPUS);
    List<String> kept = new ArrayList<>();
    for (int i = 0; i < lines.size(); i += 6) {
      kept.add(lines.get(i));
    }
    Path p = tmp.resolve("slice.jsonl");
    Files.write(p, kept);
    return p;
  }

  @Test
  void trainClassifierPrintsMetricsAndClassifyExplainsWithTheSavedPipeline() throws IOException {
    Path input = slice();
    String modelDir = tmp.resolve("model").toString();
    CliRun train = run("train-classifier", "--input", input.toString(), "--model-dir", modelDir, "--epochs", "2",
        "--d", "16", "--layers", "1", "--heads", "2", "--max-len", "16", "--min-count", "1", "--batch-size", "16",
        "--checkpoint-dir", tmp.resolve("ckpt").toString());
    assertEquals(0, train.status(), train.err());
    assertTrue(train.out().contains("accuracy ") && train.out().contains("confusion matrix"), train.out());
    assertTrue(Files.isDirectory(tmp.resolve("model/stages")), "a saved PipelineModel");

    String output = tmp.resolve("predicted.json").toString();
    // LIME through the flags (occlusion, the default, is checked weight by weight in TextClassifierTest).
    CliRun classify = run("classify", "--model-dir", modelDir, "--input", input.toString(), "--output", output,
        "--explain", "2", "--explain-method", "lime", "--explain-samples", "16", "--explain-seed", "3");
    assertEquals(0, classify.status(), classify.err());
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> rows = new ArrayList<>();
    try (Stream<Path> parts = Files.list(tmp.resolve("predicted.json"))) {
      for (Path part : parts.filter(p -> p.getFileName().toString().startsWith("part-")).toList()) {
        for (String line : Files.readAllLines(part)) {
          rows.add(json.readTree(line));
        }
      }
    }
    assertEquals(Files.readAllLines(input).size(), rows.size(), "one prediction per input row");
    for (JsonNode r : rows) {
      double p0 = r.get("probability").get(0).asDouble();
      double p1 = r.get("probability").get(1).asDouble();
      assertEquals(1.0, p0 + p1, 1e-5, r.toString());
      assertEquals(p1 > p0 ? 1.0 : 0.0, r.get("prediction").asDouble(), r.toString());
      assertTrue(r.get("explanation").isArray() && r.get("explanation").size() <= 4, r.toString());
      assertTrue(r.has("text") && r.has("source"), "input columns are kept: " + r);
    }
  }

  @Test
  void inputErrorsAreReportedWithWhatToDo() throws IOException {
    Path input = slice();
    CliRun missing = run("train-classifier", "--input", input.toString(), "--model-dir", tmp.resolve("m").toString(),
        "--label-col", "stars");
    assertEquals(2, missing.status());
    assertTrue(missing.err().contains("has no column 'stars'"), missing.err());

    Files.createDirectories(tmp.resolve("exists"));
    CliRun exists = run("train-classifier", "--input", input.toString(), "--model-dir", tmp.resolve("exists").toString());
    assertEquals(2, exists.status());
    assertTrue(exists.err().contains("already exists; pass --overwrite"), exists.err());

    CliRun badArch = run("train-classifier", "--input", input.toString(), "--model-dir", tmp.resolve("m2").toString(),
        "--architecture", "gru");
    assertEquals(2, badArch.status());
    assertTrue(badArch.err().contains("architecture"), badArch.err());

    CliRun noGpt = run("train-classifier", "--input", input.toString(), "--model-dir", tmp.resolve("m3").toString(),
        "--backbone", tmp.resolve("no-gpt").toString());
    assertEquals(2, noGpt.status());
    assertTrue(noGpt.err().contains("does not exist; expected the checkpoint directory of a GPT run"), noGpt.err());
    CliRun both = run("train-classifier", "--input", input.toString(), "--model-dir", tmp.resolve("m4").toString(),
        "--backbone", tmp.resolve("no-gpt").toString(), "--word-vectors", "glove.txt");
    assertEquals(2, both.status());
    assertTrue(both.err().contains("give one or the other"), both.err());

    CliRun notAModel = run("classify", "--model-dir", tmp.resolve("exists").toString(), "--input", input.toString(),
        "--output", tmp.resolve("o.json").toString());
    assertEquals(2, notAModel.status());
    assertTrue(notAModel.err().contains("holds no readable saved pipeline"), notAModel.err());

    CliRun badMethod = run("classify", "--model-dir", tmp.resolve("exists").toString(), "--input", input.toString(),
        "--output", tmp.resolve("o.json").toString(), "--explain", "2", "--explain-method", "shap");
    assertEquals(2, badMethod.status());
    assertTrue(badMethod.err().contains("must be 'occlusion' or 'lime', but found 'shap'"), badMethod.err());
  }
}
