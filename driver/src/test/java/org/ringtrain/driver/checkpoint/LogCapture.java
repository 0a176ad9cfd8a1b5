/*
 * LogCapture: collects the WARN and ERROR events one logger emits while a test runs, through the
 * Log4j 2 backend that SLF4J binds to on the driver's test classpath. It is not a logging
 * configuration: it adds one logger entry for the capture and removes it on close.
 */
package org.ringtrain.driver.checkpoint;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

final class LogCapture implements AutoCloseable {

  private final List<String> warnings = new CopyOnWriteArrayList<>();
  private final String loggerName;
  private final LoggerContext context;
  private final AbstractAppender appender;

  private LogCapture(Class<?> owner) {
    loggerName = owner.getName();
    context = (LoggerContext) LogManager.getContext(false);
    appender = new AbstractAppender("capture-" + loggerName, null, null, true, Property.EMPTY_ARRAY) {
      @Override
      public void append(LogEvent event) {
        if (event.getLevel().isMoreSpecificThan(Level.WARN)) {
          warnings.add(event.getMessage().getFormattedMessage());
        }
      }
    };
    appender.start();
    Configuration config = context.getConfiguration();
    LoggerConfig loggerConfig = new LoggerConfig(loggerName, Level.INFO, true);
    loggerConfig.addAppender(appender, Level.WARN, null);
    config.addLogger(loggerName, loggerConfig);
    context.updateLoggers();
  }

  /** Starts capturing the WARN and ERROR events of {@code owner}'s logger. */
  static LogCapture warningsOf(Class<?> owner) {
    return new LogCapture(owner);
  }

  /** The formatted messages captured so far. */
  List<String> warnings() {
    return List.copyOf(warnings);
  }

  @Override
  public void close() {
    context.getConfiguration().removeLogger(loggerName);
    context.updateLoggers();
    appender.stop();
  }
}
