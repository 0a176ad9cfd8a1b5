/*
 * HadoopSettings: the one way ringtrain turns "Hadoop settings" (fs.defaultFS, s3a endpoints and
 * credentials, dfs.replication ...) into a Hadoop Configuration and a FileSystem, on the driver and
 * inside Spark tasks alike. It is an immutable, serialisable map of key/value pairs. It is NOT a
 * live view of a SparkContext's configuration (later changes there are not seen), and it never
 * prints its values, which may be credentials.
 */
package org.ringtrain.driver.fs;

import java.io.IOException;
import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.net.URI;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import scala.Tuple2;

/**
 * Hadoop settings as an immutable map that survives Java serialisation, so that a Spark task
 * closure, a {@code CheckpointStore} shipped to rank 0 or a metrics writer on the driver all open
 * their file systems with the same settings.
 *
 * <p><b>Defaults.</b> {@link #toConfiguration()} starts from {@code new Configuration()}, that is
 * Hadoop's default resources ({@code core-default.xml}, then {@code core-site.xml}, and the
 * {@code hdfs-*.xml} files once HDFS classes are loaded) as found on the classpath of the JVM it runs
 * in, and then sets every entry of this map on top; an entry always wins over a resource. This is
 * how Spark builds its own Hadoop configuration from {@code spark.hadoop.*}. A snapshot of a
 * SparkContext ({@link #of(JavaSparkContext)}) holds every key the driver had, so on an executor
 * only keys the driver lacked come from the executor's own resources. {@link #defaults()} holds no
 * entries: Hadoop's defaults and the site files alone.
 *
 * <p>{@code toString()} names the number of settings, never their values.
 */
public final class HadoopSettings implements Serializable {

  private static final long serialVersionUID = 1L;
  private static final String SPARK_PREFIX = "spark.hadoop.";
  private static final HadoopSettings DEFAULTS = new HadoopSettings(new TreeMap<>());

  private final TreeMap<String, String> settings;
  /** Built on first use in each JVM (also after deserialisation); handed out only as copies. */
  private transient Configuration base;

  private HadoopSettings(TreeMap<String, String> settings) {
    this.settings = settings;
  }

  /** No settings: Hadoop's defaults and the {@code *-site.xml} files on the classpath alone. */
  public static HadoopSettings defaults() {
    return DEFAULTS;
  }

  /**
   * The given settings, copied.
   *
   * @param settings Hadoop keys and values, e.g. {@code fs.s3a.endpoint}; may be empty
   * @throws IllegalArgumentException for a null map, a null key or a null value
   */
  public static HadoopSettings of(Map<String, String> settings) {
    if (settings == null) {
      throw new IllegalArgumentException("Hadoop settings must not be null; pass HadoopSettings.defaults() or "
          + "Map.of() for Hadoop's defaults");
    }
    TreeMap<String, String> copy = new TreeMap<>();
    settings.forEach((k, v) -> {
      if (k == null || v == null) {
        // Only the key: a value may be a credential.
        throw new IllegalArgumentException("Hadoop settings must not hold null keys or values, but found key " + k
            + (v == null ? " with a null value" : "") + "; leave the entry out instead");
      }
      copy.put(k, v);
    });
    return new HadoopSettings(copy);
  }

  /** Every entry of {@code conf}, defaults and site files included, as a snapshot. */
  public static HadoopSettings of(Configuration conf) {
    if (conf == null) {
      throw new IllegalArgumentException("the Hadoop configuration must not be null");
    }
    TreeMap<String, String> copy = new TreeMap<>();
    for (Map.Entry<String, String> e : conf) {
      copy.put(e.getKey(), e.getValue());
    }
    return new HadoopSettings(copy);
  }

  /** A snapshot of {@code sc.hadoopConfiguration()}: what Spark itself uses for every FileSystem access. */
  public static HadoopSettings of(JavaSparkContext sc) {
    if (sc == null) {
      throw new IllegalArgumentException("the Spark context must not be null");
    }
    return of(sc.hadoopConfiguration());
  }

  /**
   * The Hadoop settings a Spark application will run with, known before it starts: every
   * {@code spark.hadoop.*} entry of {@code conf} without its prefix (the rule Spark applies to its
   * own Hadoop configuration).
   */
  public static HadoopSettings ofSparkConf(SparkConf conf) {
    if (conf == null) {
      throw new IllegalArgumentException("the Spark configuration must not be null");
    }
    TreeMap<String, String> copy = new TreeMap<>();
    for (Tuple2<String, String> e : conf.getAll()) {
      if (e._1().startsWith(SPARK_PREFIX)) {
        copy.put(e._1().substring(SPARK_PREFIX.length()), e._2());
      }
    }
    return new HadoopSettings(copy);
  }

  /** These settings with {@code key} set to {@code value}. */
  public HadoopSettings with(String key, String value) {
    if (key == null || value == null) {
      throw new IllegalArgumentException("a Hadoop setting needs a key and a value, but found key " + key
          + (value == null ? " with a null value" : ""));
    }
    TreeMap<String, String> copy = new TreeMap<>(settings);
    copy.put(key, value);
    return new HadoopSettings(copy);
  }

  /** The settings, sorted by key; unmodifiable. */
  public SortedMap<String, String> asMap() {
    return Collections.unmodifiableSortedMap(settings);
  }

  /** How many settings there are. */
  public int size() {
    return settings.size();
  }

  /**
   * A new Configuration: Hadoop's defaults with these settings on top (see the class comment). The
   * caller owns it and may change it; the defaults are parsed once per JVM and copied from then on.
   */
  public Configuration toConfiguration() {
    return new Configuration(base());
  }

  /** The FileSystem of {@code path} (its scheme, or {@code fs.defaultFS} for a path without one). */
  public FileSystem fs(Path path) throws IOException {
    if (path == null) {
      throw new IllegalArgumentException("the path must not be null");
    }
    return path.getFileSystem(toConfiguration());
  }

  /** The FileSystem of {@code uri} (its scheme, or {@code fs.defaultFS} for a URI without one). */
  public FileSystem fs(URI uri) throws IOException {
    if (uri == null) {
      throw new IllegalArgumentException("the URI must not be null");
    }
    return fs(new Path(uri));
  }

  private synchronized Configuration base() {
    if (base == null) {
      Configuration conf = new Configuration();
      settings.forEach(conf::set);
      base = conf;
    }
    return base;
  }

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    if (settings == null) {
      throw new InvalidObjectException("HadoopSettings without a settings map");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HadoopSettings other && settings.equals(other.settings);
  }

  @Override
  public int hashCode() {
    return settings.hashCode();
  }

  @Override
  public String toString() {
    // Values may be credentials (fs.s3a.secret.key): never print them.
    return "HadoopSettings[" + settings.size() + " settings]";
  }
}
