// Reading job configs: a YAML (or JSON) file of key: value settings, on any
// Hadoop FileSystem or the local disk. Keys are TrainConfig's field names.
package org.ringtrain.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Loads config layers. */
final class ConfigFiles {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private ConfigFiles() {
  }

  /** The settings in {@code file}; an empty map for null. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> load(Path file) {
    if (file == null) {
      return Map.of();
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("config file " + file + " does not exist; see conf/ for examples");
    }
    try {
      Object parsed = YAML.readValue(file.toFile(), Object.class);
      if (parsed == null) {
        return Map.of();
      }
      if (!(parsed instanceof Map)) {
        throw new IllegalArgumentException("config file " + file + " must be a mapping of setting: value, but "
            + "found a " + parsed.getClass().getSimpleName());
      }
      return new LinkedHashMap<>((Map<String, Object>) parsed);
    } catch (IOException e) {
      throw new IllegalArgumentException("config file " + file + " is not valid YAML: "
          + e.getMessage().split("\n", 2)[0], e);
    }
  }

  /** {@code key=value} pairs from --set flags. */
  static Map<String, Object> pairs(Iterable<String> settings) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String s : settings) {
      int eq = s.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--set expects key=value, but found '" + s + "'");
      }
      out.put(s.substring(0, eq).trim(), s.substring(eq + 1).trim());
    }
    return out;
  }
}
