// LossCurvePlot: curves read from a JSON-lines log (repeated steps, missing
// and malformed logs) and the PNG it draws (magic bytes, decodable, size).
// Not tested: how the picture looks (docs/img/loss-curve.png is checked by eye).
package org.ringtrain.driver.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ringtrain.driver.fs.HadoopSettings;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LossCurvePlotTest {
  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  @TempDir
  Path tmp;

  private Path log(List<String> lines) throws IOException {
    Path file = tmp.resolve("metrics.jsonl");
    Files.write(file, lines);
    return file;
  }

  private static String step(long step, double loss, double lr) {
    return MetricsEvent.of("step").with("step", step).with("total_steps", 20).with("loss", loss).with("lr", lr)
        .with("tokens_per_s", 1000.0).toJson();
  }

  private static List<String> run(int steps) {
    List<String> lines = new ArrayList<>();
    lines.add(MetricsEvent.of("resume").with("step", 0).with("attempt", 0).toJson());
    for (int s = 1; s <= steps; s++) {
      lines.add(step(s, 5.5 * Math.exp(-s / 8.0) + 1.5, 2e-3 * Math.min(1.0, s / 5.0)));
      if (s % 5 == 0) {
        lines.add(MetricsEvent.of("eval").with("step", s).with("val_loss", 5.6 * Math.exp(-s / 8.0) + 1.6)
            .with("perplexity", 10.0).toJson());
      }
    }
    lines.add(MetricsEvent.of("done").with("step", steps).with("loss", 1.7).with("val_loss", 1.8).toJson());
    return lines;
  }

  @Test
  void drawsAPngOfTheRequestedSize() throws IOException {
    Path out = tmp.resolve("plots/loss.png");
    LossCurvePlot.Curves curves = LossCurvePlot.write(log(run(20)).toString(), out.toString(), "test run",
        800, 450, HadoopSettings.defaults());
    byte[] png = Files.readAllBytes(out);
    assertArrayEquals(PNG_MAGIC, Arrays.copyOf(png, 8), "PNG signature");
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    assertEquals(800, image.getWidth());
    assertEquals(450, image.getHeight());
    assertEquals(20, curves.trainSteps().length);
    assertArrayEquals(new double[] {5, 10, 15, 20}, curves.valSteps());
  }

  @Test
  void aStepRedoneAfterAFailureIsDrawnWithItsLastValue() throws IOException {
    List<String> lines = new ArrayList<>(List.of(step(1, 5.0, 1e-3), step(2, 4.0, 1e-3), step(3, 3.9, 1e-3)));
    lines.add(MetricsEvent.of("failure").with("attempt", 0).with("message", "lost executor").toJson());
    lines.add(MetricsEvent.of("resume").with("step", 2).with("attempt", 1).with("path", "c/step-2").toJson());
    lines.add(step(3, 3.5, 1e-3));
    LossCurvePlot.Curves curves = LossCurvePlot.read(log(lines).toString(), HadoopSettings.defaults());
    assertArrayEquals(new double[] {1, 2, 3}, curves.trainSteps());
    assertArrayEquals(new double[] {5.0, 4.0, 3.5}, curves.trainLoss());
    assertEquals(0, curves.valSteps().length);
  }

  @Test
  void aMissingLogIsRejectedNamingThePathAndTheDefaultLocation() {
    String missing = tmp.resolve("nope/metrics.jsonl").toString();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LossCurvePlot.read(missing, HadoopSettings.defaults()));
    assertTrue(e.getMessage().contains(missing) && e.getMessage().contains("does not exist")
        && e.getMessage().contains("<checkpointDir>/metrics.jsonl"), e.getMessage());
  }

  @Test
  void aDirectoryIsRejectedSuggestingTheLogInsideIt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LossCurvePlot.read(tmp.toString(), HadoopSettings.defaults()));
    assertTrue(e.getMessage().contains("is a directory") && e.getMessage().contains(tmp + "/metrics.jsonl"),
        e.getMessage());
  }

  @Test
  void aLineThatIsNotJsonIsRejectedWithItsLineNumber() throws IOException {
    List<String> lines = new ArrayList<>(run(3));
    lines.add(2, "{\"event\":\"step\",\"step\":2,\"loss\":4.");
    String path = log(lines).toString();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LossCurvePlot.read(path, HadoopSettings.defaults()));
    assertTrue(e.getMessage().startsWith("metrics log " + path + " line 3: metrics line is not JSON"),
        e.getMessage());
  }

  @Test
  void aStepEventWithoutALossIsRejectedNamingTheField() throws IOException {
    String path = log(List.of(step(1, 5.0, 1e-3), "{\"event\":\"step\",\"step\":2,\"lr\":0.001}")).toString();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LossCurvePlot.read(path, HadoopSettings.defaults()));
    assertTrue(e.getMessage().contains("line 2: step event has no numeric \"loss\""), e.getMessage());
  }

  @Test
  void aLogWithoutStepEventsHasNothingToDraw() throws IOException {
    String path = log(List.of(MetricsEvent.of("resume").with("step", 0).toJson())).toString();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LossCurvePlot.read(path, HadoopSettings.defaults()));
    assertTrue(e.getMessage().contains("has no step events"), e.getMessage());
  }

  @Test
  void anUnreasonableSizeIsRejected() throws IOException {
    LossCurvePlot.Curves curves = LossCurvePlot.read(log(run(3)).toString(), HadoopSettings.defaults());
    assertThrows(IllegalArgumentException.class, () -> LossCurvePlot.png(curves, "t", 50, 50));
  }
}
