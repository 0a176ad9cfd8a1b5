// Test fixtures for the data package: small generated corpora on the local FileSystem, a
// shared local SparkContext configuration, and log capture. Not used by production code.
package org.ringtrain.driver.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

public final class CorpusFixtures {

  private CorpusFixtures() {}

  /** The local[2] context every Spark test class of this package shares (one per class). */
  public static JavaSparkContext localSpark(String appName) {
    SparkConf conf = new SparkConf()
        .setMaster("local[2]")
        .setAppName(appName)
        .set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false")
        .set("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
    return new JavaSparkContext(conf);
  }

  /** The repository root: the first ancestor of the working directory holding data/. */
  public static Path repositoryRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isRegularFile(p.resolve("data/moby-dick.txt"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException(
          "no data/moby-dick.txt above " + Path.of("").toAbsolutePath());
    }
    return p;
  }

  /**
   * Bytes whose byte-tokenizer ids are {@code start, start+1, ...} modulo 256: every token of
   * a generated corpus tells where it came from.
   */
  public static byte[] counting(int length, int start) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (start + i);
    }
    return b;
  }

  public static Path write(Path file, byte[] content) throws IOException {
    Files.createDirectories(file.getParent());
    return Files.write(file, content);
  }

  /** Captures the formatted messages a class logs at INFO and above while open. */
  static final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final Level previous;
    private final AbstractAppender appender;
    private final List<String> messages = new ArrayList<>();

    LogCapture(Class<?> source) {
      logger = (Logger) LogManager.getLogger(source);
      previous = logger.getLevel();
      appender = new AbstractAppender(
          "capture-" + source.getSimpleName(), null, null, true, Property.EMPTY_ARRAY) {
        @Override
        public void append(LogEvent event) {
          synchronized (messages) {
            messages.add(event.getMessage().getFormattedMessage());
          }
        }
      };
      appender.start();
      logger.addAppender(appender);
      logger.setLevel(Level.INFO);
    }

    List<String> messages() {
      synchronized (messages) {
        return List.copyOf(messages);
      }
    }

    @Override
    public void close() {
      logger.removeAppender(appender);
      logger.setLevel(previous);
      appender.stop();
    }
  }
}
