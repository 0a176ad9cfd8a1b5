// `ringtrain plot` as a user runs it: a PNG of the requested size from a
// metrics log, the default output beside the log, and exit status 2 with a
// clear message for a missing or malformed log. Drawing details are tested in
// driver's LossCurvePlotTest; this test starts no Spark.
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PlotCommandTest {
  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  @TempDir
  Path tmp;

  private record Run(int status, String err) {
  }

  private static Run run(String... args) {
    PrintStream oldErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int status = RingtrainCli.run(args);
      return new Run(status, err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(oldErr);
    }
  }

  /** A metrics log as ringtrain train writes it: a resume, steps with an eval every 5, done. */
  private Path metricsLog(int steps) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add("{\"event\":\"resume\",\"time\":1700000000000,\"step\":0,\"attempt\":0}");
    for (int s = 1; s <= steps; s++) {
      lines.add(String.format(Locale.ROOT, "{\"event\":\"step\",\"time\":%d,\"step\":%d,\"total_steps\":%d,"
          + "\"loss\":%.4f,\"lr\":%.6f,\"grad_norm\":1.0,\"tokens_per_s\":1500.0}",
          1_700_000_000_000L + 500L * s, s, steps, 5.5 - 0.1 * s, 2e-3 * Math.min(1.0, s / 3.0)));
      if (s % 5 == 0) {
        lines.add("{\"event\":\"eval\",\"step\":" + s + ",\"val_loss\":" + (5.6 - 0.1 * s) + ",\"perplexity\":9.0}");
      }
    }
    Path file = tmp.resolve("run/metrics.jsonl");
    Files.createDirectories(file.getParent());
    Files.write(file, lines);
    return file;
  }

  @Test
  void writesAPngOfTheRequestedSize() throws IOException {
    Path out = tmp.resolve("loss.png");
    Run r = run("plot", "--metrics", metricsLog(20).toString(), "--output", out.toString(), "--width", "640",
        "--height", "400");
    assertEquals(0, r.status(), r.err());
    byte[] png = Files.readAllBytes(out);
    assertArrayEquals(PNG_MAGIC, Arrays.copyOf(png, 8), "PNG signature");
    BufferedImage image = ImageIO.read(out.toFile());
    assertEquals(640, image.getWidth());
    assertEquals(400, image.getHeight());
  }

  @Test
  void withoutOutputItWritesLossPngBesideTheLogAtTheDefaultSize() throws IOException {
    Path log = metricsLog(8);
    assertEquals(0, run("plot", "--metrics", log.toString()).status());
    BufferedImage image = ImageIO.read(log.resolveSibling("loss.png").toFile());
    assertEquals(960, image.getWidth());
    assertEquals(540, image.getHeight());
  }

  @Test
  void aMissingLogExitsWithStatus2AndSaysWhereTheLogUsuallyIs() {
    String missing = tmp.resolve("no-such-run/metrics.jsonl").toString();
    Run r = run("plot", "--metrics", missing, "--output", tmp.resolve("x.png").toString());
    assertEquals(2, r.status(), r.err());
    assertTrue(r.err().contains("ringtrain: metrics log " + missing + " does not exist")
        && r.err().contains("<checkpointDir>/metrics.jsonl"), r.err());
    assertTrue(Files.notExists(tmp.resolve("x.png")), "no picture from a missing log");
  }

  @Test
  void aMalformedLineExitsWithStatus2NamingTheLine() throws IOException {
    Path log = metricsLog(6);
    List<String> lines = new ArrayList<>(Files.readAllLines(log));
    lines.set(3, "step 3 loss 5.2");
    Files.write(log, lines);
    Run r = run("plot", "--metrics", log.toString(), "--output", tmp.resolve("x.png").toString());
    assertEquals(2, r.status(), r.err());
    assertTrue(r.err().contains("metrics log " + log + " line 4: metrics line is not JSON: step 3 loss 5.2"),
        r.err());
    assertTrue(r.err().contains("Run 'ringtrain plot --help'"), r.err());
  }
}
