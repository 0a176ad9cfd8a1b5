// HadoopSettings: settings reach the Configuration and the FileSystem, survive Java
// serialisation (the way they travel to executors), start from Hadoop's defaults, and
// never print their values. Local file system only; no Spark.
package org.ringtrain.driver.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HadoopSettingsTest {
  private static final String SECRET = "s3cr3t-value";

  @TempDir
  Path tmp;

  @Test
  void settingsAreAppliedOnTopOfHadoopsDefaults() {
    Configuration conf = HadoopSettings.of(Map.of("io.file.buffer.size", "8192", "ringtrain.test.key", "v"))
        .toConfiguration();
    assertEquals("8192", conf.get("io.file.buffer.size"), "a setting wins over core-default.xml's 4096");
    assertEquals("v", conf.get("ringtrain.test.key"));
    assertEquals("file:///", conf.get("fs.defaultFS"), "unset keys keep Hadoop's defaults");
    assertEquals("4096", HadoopSettings.defaults().toConfiguration().get("io.file.buffer.size"));
  }

  @Test
  void eachConfigurationIsTheCallersOwnCopy() {
    HadoopSettings settings = HadoopSettings.of(Map.of("ringtrain.test.key", "v"));
    Configuration first = settings.toConfiguration();
    first.set("ringtrain.test.key", "changed");
    first.set("ringtrain.other", "x");
    Configuration second = settings.toConfiguration();
    assertNotSame(first, second);
    assertEquals("v", second.get("ringtrain.test.key"));
    assertNull(second.get("ringtrain.other"));
  }

  @Test
  void javaSerialisationRoundTripKeepsEverySetting() throws Exception {
    HadoopSettings settings = HadoopSettings.of(Map.of("fs.s3a.endpoint", "http://127.0.0.1:9000",
        "dfs.replication", "1"));
    settings.toConfiguration(); // a cached Configuration must not be needed to serialise
    HadoopSettings copy = roundTrip(settings);
    assertEquals(settings, copy);
    assertEquals(settings.asMap(), copy.asMap());
    Configuration conf = copy.toConfiguration();
    assertEquals("http://127.0.0.1:9000", conf.get("fs.s3a.endpoint"));
    assertEquals("1", conf.get("dfs.replication"));
    assertEquals(HadoopSettings.defaults(), roundTrip(HadoopSettings.defaults()));
  }

  @Test
  void fsOfAFileUriIsTheLocalFileSystemOpenedWithTheSettings() throws IOException {
    // A private (uncached) instance, so that its configuration is the one these settings built.
    HadoopSettings settings = HadoopSettings.of(Map.of("fs.file.impl.disable.cache", "true",
        "ringtrain.test.key", "v"));
    Path file = Files.writeString(tmp.resolve("a.txt"), "abc");
    FileSystem fs = settings.fs(file.toUri());
    assertTrue(fs instanceof LocalFileSystem, "file: is the local file system, found " + fs.getClass());
    assertEquals("v", fs.getConf().get("ringtrain.test.key"));
    assertEquals(3, fs.getFileStatus(new org.apache.hadoop.fs.Path(file.toUri())).getLen());
    assertNotSame(fs, settings.fs(file.toUri()), "fs.file.impl.disable.cache=true was applied");
    FileSystem cached = HadoopSettings.defaults().fs(new org.apache.hadoop.fs.Path(file.toString()));
    assertSame(cached, HadoopSettings.defaults().fs(file.toUri()), "without it Hadoop's cache answers");
  }

  @Test
  void aConfigurationIsSnapshottedWithItsDefaults() {
    Configuration source = new Configuration();
    source.set("ringtrain.test.key", "v");
    HadoopSettings settings = HadoopSettings.of(source);
    source.set("ringtrain.test.key", "later");
    assertEquals("v", settings.asMap().get("ringtrain.test.key"), "a snapshot, not a live view");
    assertEquals("file:///", settings.asMap().get("fs.defaultFS"));
  }

  @Test
  void aSparkConfGivesItsSparkHadoopEntriesWithoutThePrefix() {
    SparkConf conf = new SparkConf(false).set("spark.hadoop.fs.s3a.endpoint", "http://minio:9000")
        .set("spark.master", "local[2]").set("spark.hadoop.dfs.replication", "2");
    assertEquals(Map.of("fs.s3a.endpoint", "http://minio:9000", "dfs.replication", "2"),
        HadoopSettings.ofSparkConf(conf).asMap());
  }

  @Test
  void valuesNeverAppearInTextAndNullsAreRefusedByKey() {
    HadoopSettings settings = HadoopSettings.of(Map.of("fs.s3a.secret.key", SECRET));
    assertFalse(settings.toString().contains(SECRET), settings.toString());
    assertEquals("HadoopSettings[1 settings]", settings.toString());
    Map<String, String> withNull = new HashMap<>();
    withNull.put("fs.s3a.access.key", null);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HadoopSettings.of(withNull));
    assertTrue(e.getMessage().contains("fs.s3a.access.key with a null value"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> HadoopSettings.of((Map<String, String>) null));
  }

  @Test
  void withAddsOneSettingAndLeavesTheOriginalAlone() {
    HadoopSettings base = HadoopSettings.of(Map.of("a", "1"));
    HadoopSettings more = base.with("b", "2");
    assertEquals(Map.of("a", "1"), base.asMap());
    assertEquals(Map.of("a", "1", "b", "2"), more.asMap());
    assertThrows(UnsupportedOperationException.class, () -> more.asMap().put("c", "3"));
  }

  private static HadoopSettings roundTrip(HadoopSettings settings) throws IOException, ClassNotFoundException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(settings);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      return (HadoopSettings) in.readObject();
    }
  }
}
