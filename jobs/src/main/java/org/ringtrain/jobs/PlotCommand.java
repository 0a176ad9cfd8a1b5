// `ringtrain plot`: draw a run's loss curves (train and validation loss, LR on a
// second axis) as a PNG from its JSON-lines metrics log. Thin: it parses the
// flags and calls LossCurvePlot. It starts no Spark (reading one small file
// needs none); Hadoop paths (hdfs:, s3a:) use the Hadoop configuration on the
// classpath.
package org.ringtrain.jobs;

import java.util.concurrent.Callable;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.metrics.LossCurvePlot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Draws the loss curves of a run.
 *
 * <pre>
 * ringtrain plot --metrics target/runs/moby/metrics.jsonl --output target/runs/moby/loss.png
 * </pre>
 */
@Command(name = "plot", mixinStandardHelpOptions = true,
    description = "Draw train/validation loss and learning rate against step as a PNG, from a metrics log.",
    footer = {"", "Examples:",
        "  ringtrain plot --metrics target/runs/moby/metrics.jsonl --output loss.png",
        "  ringtrain plot --metrics hdfs:///runs/moby1/metrics.jsonl --output hdfs:///runs/moby1/loss.png "
            + "--width 1600 --height 900"})
final class PlotCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(PlotCommand.class);

  @Option(names = "--metrics", required = true,
      description = "the run's JSON-lines metrics log (by default <checkpointDir>/metrics.jsonl)")
  String metrics;

  @Option(names = "--output", description = "PNG to write, replaced if present (default: loss.png beside the log)")
  String output;

  @Option(names = "--title", description = "chart title (default: the metrics log's path)")
  String title;

  @Option(names = "--width", defaultValue = "" + LossCurvePlot.DEFAULT_WIDTH,
      description = "pixels (default ${DEFAULT-VALUE})")
  int width;

  @Option(names = "--height", defaultValue = "" + LossCurvePlot.DEFAULT_HEIGHT,
      description = "pixels (default ${DEFAULT-VALUE})")
  int height;

  @Override
  public Integer call() throws Exception {
    // Draw off-screen: a driver or CI machine has no display.
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    String out = output != null ? output : defaultOutput(metrics);
    LossCurvePlot.Curves curves = LossCurvePlot.write(metrics, out, title != null ? title : metrics, width, height,
        HadoopSettings.defaults());
    LOG.info("wrote {} ({}x{} px): {} training steps, {} validation points", out, width, height,
        curves.trainSteps().length, curves.valSteps().length);
    return 0;
  }

  /** loss.png in the directory of the log. */
  static String defaultOutput(String metricsLog) {
    int slash = metricsLog.lastIndexOf('/');
    return slash < 0 ? "loss.png" : metricsLog.substring(0, slash + 1) + "loss.png";
  }
}
