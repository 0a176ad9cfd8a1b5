// Preflight: the file-system checks before Spark starts, one failure mode per test, with
// the message a user sees. Local file system only.
package org.ringtrain.driver.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PreflightTest {
  private static final HadoopSettings LOCAL = HadoopSettings.defaults();

  @TempDir
  Path tmp;

  @Test
  void anInputIsMeasuredAcrossAGlobAndDirectories() throws IOException {
    Files.writeString(tmp.resolve("a.txt"), "12345");
    Files.createDirectories(tmp.resolve("sub"));
    Files.writeString(tmp.resolve("sub/b.txt"), "123");
    assertEquals(5, Preflight.requireInput(tmp.resolve("a.txt").toString(), LOCAL));
    assertEquals(8, Preflight.requireInput(tmp.toUri().toString(), LOCAL), "a directory, recursively");
    assertEquals(8, Preflight.requireInput(tmp + "/*", LOCAL), "a glob");
  }

  @Test
  void aMissingInputSaysWhatToGive() {
    String missing = tmp.resolve("missing.txt").toString();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Preflight.requireInput(missing, LOCAL));
    assertEquals("input " + missing + " does not exist; give a file, a directory or a glob on any Hadoop "
        + "filesystem", e.getMessage());
  }

  @Test
  void anEmptyInputIsRefused() throws IOException {
    Path empty = Files.createFile(tmp.resolve("empty.txt"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Preflight.requireInput(empty.toString(), LOCAL));
    assertTrue(e.getMessage().endsWith("is empty; point it at a text corpus"), e.getMessage());
  }

  @Test
  void anExistingOutputIsRefusedWithTheFlagAndTheRemedy() throws IOException {
    Path model = Files.createDirectories(tmp.resolve("model"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Preflight.requireAbsent("--model-dir", model.toString(), LOCAL));
    assertEquals("--model-dir " + model + " already exists; pass --overwrite to replace it or choose another "
        + "directory", e.getMessage());
    Preflight.requireAbsent("--model-dir", tmp.resolve("new-model").toString(), LOCAL);
  }

  @Test
  void missingArgumentsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> Preflight.requireInput(" ", LOCAL));
    assertThrows(IllegalArgumentException.class, () -> Preflight.requireInput(tmp.toString(), null));
  }
}
