// InputFiles: turns a user's path (file, directory or glob, any Hadoop FileSystem) into the
// sorted list of files to read, on the driver. It does NOT read file contents.
package org.ringtrain.driver.fs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/** Resolution of an input path to files, in the order the data pipeline numbers them. */
public final class InputFiles {

  private InputFiles() {}

  /**
   * The files a path denotes, sorted by their fully qualified path: a file is itself; a
   * directory gives every file below it, recursively; a glob gives the union of what each
   * match gives. Names starting with {@code .} or {@code _} (checksums, {@code _SUCCESS},
   * temp files) are skipped inside directories and among glob matches, as Hadoop's input
   * formats do; a path naming one file is read whatever its name.
   *
   * @throws IllegalArgumentException if nothing matches, or only directories without files
   */
  public static List<FileStatus> resolve(Configuration conf, String pathString) throws IOException {
    Path path = new Path(pathString);
    FileSystem fs = path.getFileSystem(conf);
    FileStatus[] matches = fs.globStatus(path);
    if (matches == null || matches.length == 0) {
      throw new IllegalArgumentException(
          "input path '" + pathString + "' does not exist (resolved against "
              + fs.getUri() + "): expected a file, a directory or a glob with at least one"
              + " match; check the path and its scheme (file:, hdfs:, s3a:)");
    }
    boolean glob = isGlob(pathString);
    List<FileStatus> files = new ArrayList<>();
    for (FileStatus match : matches) {
      if (glob && isHidden(match.getPath().getName())) {
        continue; // a pattern such as dir/* also matches _SUCCESS and .crc files
      }
      if (match.isDirectory()) {
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(match.getPath(), true);
        while (it.hasNext()) {
          LocatedFileStatus s = it.next();
          if (s.isFile() && !isHiddenBelow(s.getPath(), match.getPath())) {
            files.add(s);
          }
        }
      } else {
        files.add(match);
      }
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException(
          "input path '" + pathString + "' matches " + matches.length
              + " director(y/ies) but no file in them: expected at least one non-hidden file"
              + " (names starting with '.' or '_' are skipped)");
    }
    files.sort(Comparator.comparing(s -> s.getPath().toString()));
    return files;
  }

  /** True if any path component below {@code root} starts with '.' or '_'. */
  private static boolean isHiddenBelow(Path file, Path root) {
    int rootDepth = root.depth();
    for (Path p = file; p != null && p.depth() > rootDepth; p = p.getParent()) {
      if (isHidden(p.getName())) {
        return true;
      }
    }
    return false;
  }

  private static boolean isHidden(String name) {
    return name.startsWith(".") || name.startsWith("_");
  }

  /** True if the path holds a Hadoop glob metacharacter. */
  private static boolean isGlob(String pathString) {
    for (char c : new char[] {'*', '?', '[', '{'}) {
      if (pathString.indexOf(c) >= 0) {
        return true;
      }
    }
    return false;
  }
}
