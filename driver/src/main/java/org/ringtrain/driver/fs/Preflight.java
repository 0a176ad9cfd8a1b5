/*
 * Preflight: file-system checks a job makes before Spark starts, so that a missing input or an
 * output that would be overwritten fails in a second with a message that says what to do, not
 * minutes later inside a Spark stage. It knows paths and sizes only: what a corpus must hold for
 * a model is the caller's check (see TrainingPreflight).
 */
package org.ringtrain.driver.fs;

import java.io.IOException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Pre-Spark checks of inputs and outputs on any Hadoop FileSystem. */
public final class Preflight {

  private Preflight() {
  }

  /**
   * The input exists and is not empty.
   *
   * @param input  a file, a directory or a glob on any Hadoop filesystem
   * @param hadoop the settings to open its file system with
   * @return the total length in bytes of everything {@code input} matches (directories recursively)
   * @throws IllegalArgumentException if nothing matches, everything matched is empty, or it cannot be read
   */
  public static long requireInput(String input, HadoopSettings hadoop) {
    requireArguments(input, hadoop);
    Path path = new Path(input);
    long bytes = 0;
    try {
      FileSystem fs = hadoop.fs(path);
      FileStatus[] matches = fs.globStatus(path);
      if (matches == null || matches.length == 0) {
        throw new IllegalArgumentException("input " + input + " does not exist; give a file, a directory "
            + "or a glob on any Hadoop filesystem");
      }
      for (FileStatus match : matches) {
        bytes += fs.getContentSummary(match.getPath()).getLength();
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read input " + input + ": " + e.getMessage(), e);
    }
    if (bytes == 0) {
      throw new IllegalArgumentException("input " + input + " is empty; point it at a text corpus");
    }
    return bytes;
  }

  /**
   * Nothing exists at {@code output} yet, so that writing it replaces nothing.
   *
   * @param flag   how the user named the output, e.g. {@code --model-dir}, for the message
   * @param output a path or URI on any Hadoop filesystem
   * @param hadoop the settings to open its file system with
   * @throws IllegalArgumentException if something exists there (the message offers {@code --overwrite})
   * @throws IOException              if the file system cannot be asked
   */
  public static void requireAbsent(String flag, String output, HadoopSettings hadoop) throws IOException {
    requireArguments(output, hadoop);
    Path path = new Path(output);
    if (hadoop.fs(path).exists(path)) {
      throw new IllegalArgumentException(flag + " " + output + " already exists; pass --overwrite to replace"
          + " it or choose another directory");
    }
  }

  private static void requireArguments(String path, HadoopSettings hadoop) {
    if (path == null || path.isBlank() || hadoop == null) {
      throw new IllegalArgumentException("a path and Hadoop settings are needed, but found path "
          + (path == null ? "null" : "'" + path + "'") + " and settings " + hadoop
          + "; pass HadoopSettings.defaults() for Hadoop's defaults");
    }
  }
}
