/*
 * Tests of PretrainedGpt.open, the one reader of "a path to a pretrained GPT": each accepted kind
 * (a run's checkpoint directory, the directory `ringtrain export` wrote, the GPT-2 file in it) gives
 * the same weights and says which kind it was, and each refusal (a missing path, a directory that is
 * none of them, a file that is no GPT-2, an int8 model) names the option, what was found and the
 * accepted kinds. A small model the test writes itself (SmallGptRun); test code only, no Spark.
 */
package org.ringtrain.driver.gpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.fs.HadoopSettings;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PretrainedGptTest {
  private static final HadoopSettings LOCAL = HadoopSettings.defaults();

  @TempDir
  Path tmp;

  @Test
  void eachAcceptedKindReadsTheSameWeightsAndSaysWhatItWas() throws IOException {
    Path run = SmallGptRun.write(tmp);
    PretrainedGpt fromRun = PretrainedGpt.open(run.toString(), LOCAL, "--model");
    assertEquals(PretrainedGpt.Kind.CHECKPOINT_DIRECTORY, fromRun.kind());
    assertEquals(SmallGptRun.STEP, fromRun.model().step());
    assertEquals("byte", fromRun.model().tokenizer().id());
    assertEquals(Optional.empty(), fromRun.file(), "a checkpoint's weights are no GPT-2 file");

    Path file = fromRun.model().export(tmp.resolve("export"));
    PretrainedGpt fromExport = PretrainedGpt.open(tmp.resolve("export").toString(), LOCAL, "--model");
    assertEquals(PretrainedGpt.Kind.EXPORT_DIRECTORY, fromExport.kind());
    assertEquals(Optional.of(file.toAbsolutePath()), fromExport.file());
    PretrainedGpt fromFile = PretrainedGpt.open(file.toString(), LOCAL, "--model");
    assertEquals(PretrainedGpt.Kind.GPT2_FILE, fromFile.kind());
    assertEquals(Optional.of(file.toAbsolutePath()), fromFile.file());
    PretrainedGpt fromUri = PretrainedGpt.open(file.toUri().toString(), LOCAL, "--model");
    assertEquals(fromFile.file(), fromUri.file(), "a file: URI is the same local file");

    String digest = fromRun.model().digest();
    assertEquals(digest, fromExport.model().digest(), "the export holds the checkpoint's weights");
    assertEquals(digest, fromFile.model().digest());
    assertEquals(fromRun.model().modelConfig(), fromFile.model().modelConfig());
  }

  @Test
  void aMissingPathIsRefusedNamingTheOptionAndTheAcceptedKinds() {
    String missing = tmp.resolve("nothing-here").toString();
    String message = refusal(missing);
    assertTrue(message.startsWith("--model " + missing + " does not exist; expected " + PretrainedGpt.ACCEPTED),
        message);
  }

  @Test
  void aDirectoryThatIsNoneOfTheKindsIsRefusedSayingWhatItHolds() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("notes"));
    Files.writeString(dir.resolve("readme.txt"), "not a model");
    String message = refusal(dir.toString());
    assertTrue(message.startsWith("--model " + dir + " is a directory but holds no GPT checkpoint"), message);
    assertTrue(message.contains("no valid checkpoint in " + dir) && message.contains(PretrainedGpt.ACCEPTED),
        message);
  }

  @Test
  void aFileThatIsNoGpt2IsRefusedWithTheReadersReason() throws IOException {
    Path junk = Files.writeString(tmp.resolve("junk.safetensors"), "not a safetensors file");
    String message = refusal(junk.toString());
    assertTrue(message.startsWith("--model " + junk + " is not a GPT-2 file this version reads: "), message);
    assertTrue(message.contains(PretrainedGpt.ACCEPTED), message);
  }

  @Test
  void anInt8ModelIsRefusedPointingBackToItsFloatRun() throws IOException {
    Path run = SmallGptRun.write(tmp);
    String int8 = tmp.resolve("int8.safetensors").toString();
    QuantizedGpt.quantize(run.toString(), int8, false, LOCAL);
    String message = refusal(int8);
    assertTrue(message.startsWith("--model " + int8 + " is an int8 model"), message);
    assertTrue(message.contains("(checkpoint ") && message.contains(run.toString()), message);
  }

  private static String refusal(String path) {
    return assertThrows(IllegalArgumentException.class, () -> PretrainedGpt.open(path, LOCAL, "--model"))
        .getMessage();
  }
}
