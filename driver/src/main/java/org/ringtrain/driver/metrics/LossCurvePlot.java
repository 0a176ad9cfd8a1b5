// The loss-curve picture of a run: training and validation loss against step,
// with the learning rate on a second axis, drawn with XChart into a PNG from a
// JSON-lines metrics log on any Hadoop FileSystem.
// It is not a dashboard: one static image, no live refresh (TensorBoard does
// that), and no other metrics (throughput and timings are in TensorBoard).
package org.ringtrain.driver.metrics;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.BufferedReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.ringtrain.driver.fs.HadoopSettings;

/**
 * Draws a run's loss curves as a PNG.
 *
 * <p>A step that appears more than once in the log (a stage attempt that failed after it, then the
 * resumed attempt redoing it) is drawn with its last value, the one the surviving run computed.
 */
public final class LossCurvePlot {
  /** Image width in pixels when none is given: 960. */
  public static final int DEFAULT_WIDTH = 960;
  /** Image height in pixels when none is given: 540. */
  public static final int DEFAULT_HEIGHT = 540;

  private static final Color TRAIN_COLOR = new Color(31, 119, 180);
  private static final Color VAL_COLOR = new Color(214, 39, 40);
  private static final Color LR_COLOR = new Color(127, 127, 127);

  private LossCurvePlot() {}

  /**
   * The three series of the plot, each sorted by step.
   *
   * @param trainSteps steps of the training loss and learning-rate points
   * @param trainLoss  global training loss at each of {@code trainSteps}
   * @param lr         learning rate at each of {@code trainSteps}
   * @param valSteps   steps of the validation points (may be empty)
   * @param valLoss    validation loss at each of {@code valSteps}
   */
  public record Curves(double[] trainSteps, double[] trainLoss, double[] lr, double[] valSteps, double[] valLoss) {}

  /**
   * Reads the curves from the JSON-lines log at {@code metricsLog}.
   *
   * @throws IllegalArgumentException when the log is missing, a line is not a metrics event, a step
   *                                  or eval event lacks its numbers, or there is no step event at all
   * @throws IOException              when the filesystem fails while reading
   */
  public static Curves read(String metricsLog, HadoopSettings hadoop) throws IOException {
    Path path = new Path(metricsLog);
    FileSystem fs = hadoop.fs(path);
    if (fs.isDirectory(path)) {
      throw new IllegalArgumentException("metrics log " + metricsLog + " is a directory; expected the JSON-lines "
          + "file itself, such as " + metricsLog.replaceAll("/+$", "") + "/metrics.jsonl");
    }
    NavigableMap<Long, double[]> train = new TreeMap<>();
    NavigableMap<Long, Double> val = new TreeMap<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(fs.open(path), StandardCharsets.UTF_8))) {
      int lineNumber = 0;
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lineNumber++;
        if (line.isBlank()) {
          continue;
        }
        MetricsEvent e;
        try {
          e = MetricsEvent.fromJson(line);
        } catch (IllegalArgumentException bad) {
          throw new IllegalArgumentException(where(metricsLog, lineNumber) + bad.getMessage()
              + "; expected one JSON metrics event per line, as ringtrain train writes", bad);
        }
        switch (e.event()) {
          case "step" -> train.put(step(e, metricsLog, lineNumber),
              new double[] {number(e, "loss", metricsLog, lineNumber), number(e, "lr", metricsLog, lineNumber)});
          case "eval" -> val.put(step(e, metricsLog, lineNumber), number(e, "val_loss", metricsLog, lineNumber));
          default -> { } // resume, checkpoint, failure, done: not curves
        }
      }
    } catch (FileNotFoundException missing) {
      throw new IllegalArgumentException("metrics log " + metricsLog + " does not exist; expected the JSON-lines "
          + "log of a run, by default <checkpointDir>/metrics.jsonl", missing);
    }
    if (train.isEmpty()) {
      throw new IllegalArgumentException("metrics log " + metricsLog + " has no step events, so there is no curve "
          + "to draw; expected lines like {\"event\":\"step\",\"step\":1,\"loss\":5.5,\"lr\":0.002,...}");
    }
    return new Curves(
        train.keySet().stream().mapToDouble(Long::doubleValue).toArray(),
        train.values().stream().mapToDouble(v -> v[0]).toArray(),
        train.values().stream().mapToDouble(v -> v[1]).toArray(),
        val.keySet().stream().mapToDouble(Long::doubleValue).toArray(),
        val.values().stream().mapToDouble(Double::doubleValue).toArray());
  }

  /** The PNG bytes of {@code curves}, {@code width} x {@code height} pixels, titled {@code title}. */
  public static byte[] png(Curves curves, String title, int width, int height) throws IOException {
    if (width < 200 || height < 150 || width > 10_000 || height > 10_000) {
      throw new IllegalArgumentException("plot size must be 200x150 to 10000x10000 pixels, but found "
          + width + "x" + height);
    }
    XYChart chart = new XYChartBuilder().width(width).height(height).title(title)
        .xAxisTitle("step").yAxisTitle("loss").build();
    XYStyler styler = chart.getStyler();
    styler.setLegendPosition(Styler.LegendPosition.InsideNE);
    styler.setChartBackgroundColor(Color.WHITE);
    styler.setMarkerSize(6);
    styler.setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
    chart.setYAxisGroupTitle(0, "loss");
    chart.setYAxisGroupTitle(1, "learning rate");

    XYSeries train = chart.addSeries("train loss", curves.trainSteps(), curves.trainLoss());
    train.setMarker(SeriesMarkers.NONE).setLineColor(TRAIN_COLOR);
    if (curves.valSteps().length > 0) {
      XYSeries val = chart.addSeries("validation loss", curves.valSteps(), curves.valLoss());
      val.setMarker(SeriesMarkers.CIRCLE).setMarkerColor(VAL_COLOR).setLineColor(VAL_COLOR);
    }
    XYSeries lr = chart.addSeries("learning rate (right axis)", curves.trainSteps(), curves.lr());
    lr.setMarker(SeriesMarkers.NONE).setLineColor(LR_COLOR)
        .setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f},
            0f));
    lr.setYAxisGroup(1);
    return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
  }

  /**
   * Reads {@code metricsLog} and writes its plot to {@code output} (replacing it), both on any Hadoop
   * FileSystem.
   *
   * @param title  chart title, for example the run's checkpoint directory
   * @param width  pixels; {@link #DEFAULT_WIDTH} is the usual choice
   * @param height pixels; {@link #DEFAULT_HEIGHT} is the usual choice
   * @return the curves that were drawn
   */
  public static Curves write(String metricsLog, String output, String title, int width, int height,
      HadoopSettings hadoop) throws IOException {
    Curves curves = read(metricsLog, hadoop);
    byte[] image = png(curves, title, width, height);
    Path out = new Path(output);
    FileSystem fs = hadoop.fs(out);
    fs.setWriteChecksum(false); // no .loss.png.crc beside a picture on the local filesystem
    if (out.getParent() != null) {
      fs.mkdirs(out.getParent());
    }
    try (OutputStream stream = fs.create(out, true)) {
      stream.write(image);
    }
    return curves;
  }

  private static long step(MetricsEvent e, String log, int line) {
    return (long) number(e, "step", log, line);
  }

  private static double number(MetricsEvent e, String key, String log, int line) {
    double v = e.number(key);
    if (Double.isNaN(v)) {
      throw new IllegalArgumentException(where(log, line) + e.event() + " event has no numeric \"" + key
          + "\" field: " + e.fields().keySet() + "; expected " + expectedFields(e.event()));
    }
    return v;
  }

  private static String expectedFields(String event) {
    return "step".equals(event) ? List.of("step", "loss", "lr").toString() : List.of("step", "val_loss").toString();
  }

  private static String where(String log, int line) {
    return "metrics log " + log + " line " + line + ": ";
  }
}
