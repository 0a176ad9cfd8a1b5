/*
 * Tests of QuantizedGpt: quantising a checkpoint written by CheckpointStore to a file, loading it
 * back with its config and tokenizer, generating from it, scoring through the evaluator's scorer
 * factory against the float checkpoint's, and the refusals (existing output, a float file given as
 * --weights, training into or resuming from an int8 file). Test code only; no Spark starts.
 */
package org.ringtrain.driver.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.fs.HadoopSettings;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QuantizedGptTest {
  private static final HadoopSettings LOCAL = HadoopSettings.defaults();

  @TempDir
  Path tmp;

  /** The small GPT run's checkpoint directory (step 7, C 64, L 2, byte tokenizer). */
  private Path checkpoint() throws IOException {
    return SmallGptRun.write(tmp);
  }

  @Test
  void aQuantisedCheckpointLoadsGeneratesAndScoresCloseToTheFloatModel() throws Exception {
    Path dir = checkpoint();
    String out = tmp.resolve("int8.safetensors").toString();
    QuantizedGpt.Summary s = QuantizedGpt.quantize(dir.toString(), out, false, LOCAL);
    assertEquals(7, s.step());
    assertTrue(s.ratio() < 0.45, "int8 / float32 bytes " + s.ratio() + " for a model this small (embeddings float32)");
    QuantizedGpt int8 = QuantizedGpt.load(out, LOCAL);
    TrainedGpt trained = TrainedGpt.load(dir.toString(), LOCAL);
    assertEquals(trained.modelConfig(), int8.modelConfig());
    assertEquals("byte", int8.tokenizer().id());
    assertEquals(7, int8.step());
    String text = int8.generate("call", 26, 0.8, 40, 5);
    assertTrue(text.startsWith("call") && text.length() > 4, text);

    Random r = new Random(1);
    int b = 2;
    int t = 16;
    int[] in = new int[b * t];
    int[] tg = new int[b * t];
    for (int i = 0; i < in.length; i++) {
      in[i] = r.nextInt(256);
      tg[i] = r.nextInt(256);
    }
    SequenceScorer.Factory f = trained.scorer();
    SequenceScorer.Factory q = int8.scorer();
    // Spark serialises the openers with each task: they must not drag the model objects along.
    try (ObjectOutputStream tasks = new ObjectOutputStream(OutputStream.nullOutputStream())) {
      tasks.writeObject(f.opener());
      tasks.writeObject(q.opener());
    }
    try (SequenceScorer floats = f.opener().open(f.payload()); SequenceScorer ints = q.opener().open(q.payload())) {
      double expected = floats.lossSum(in, tg, b, t);
      // Within 1% of the float model's loss (as Int8ModelFileTest states for the weights alone).
      assertEquals(expected, ints.lossSum(in, tg, b, t), 0.01 * expected);
    }
  }

  @Test
  void anExistingOutputIsNotReplaced() throws IOException {
    Path dir = checkpoint();
    Path out = Files.writeString(tmp.resolve("taken.safetensors"), "x");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QuantizedGpt.quantize(dir.toString(), out.toString(), false, LOCAL));
    assertEquals("--output " + out + " already exists; choose another file name or delete it first", e.getMessage());
  }

  @Test
  void aFloatCheckpointFileIsNotAnInt8Model() throws IOException {
    Path dir = checkpoint();
    String floatFile;
    try (var files = Files.walk(dir)) {
      floatFile = files.filter(p -> p.getFileName().toString().equals("model.safetensors")).findFirst()
          .orElseThrow().toString();
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantizedGpt.load(floatFile, LOCAL));
    assertTrue(e.getMessage().contains("is not an int8 model of this version")
        && e.getMessage().contains("a float32 checkpoint loads with --checkpoint-dir"), e.getMessage());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> QuantizedGpt.load(tmp.resolve("nope.safetensors").toString(), LOCAL));
    assertTrue(missing.getMessage().contains("is not a file"), missing.getMessage());
  }

  @Test
  void trainingIntoOrFromAnInt8FileIsRefused() throws IOException {
    Path dir = checkpoint();
    String out = tmp.resolve("int8.safetensors").toString();
    QuantizedGpt.quantize(dir.toString(), out, false, LOCAL);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantizedGpt.refuseTraining(out,
        LOCAL));
    assertTrue(e.getMessage().contains("is an int8 quantised model written by `ringtrain quantize`")
        && e.getMessage().contains("cannot be trained from or resumed"), e.getMessage());
    QuantizedGpt.refuseTraining(dir.toString(), LOCAL); // a checkpoint directory passes
  }
}
