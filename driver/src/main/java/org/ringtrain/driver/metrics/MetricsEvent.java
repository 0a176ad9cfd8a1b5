// One line of the metrics stream: a flat JSON object with an "event" field
// ("step", "eval", "checkpoint", "resume", "failure", "done") and numbers.
// It is deliberately a map, so the JSON-lines log is exactly what was sent.
package org.ringtrain.driver.metrics;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** An immutable metrics record; build with {@link #of(String)} and {@link #with}. */
public final class MetricsEvent {
  private static final ObjectMapper JSON = JsonMapper.builder().build();

  private final Map<String, Object> fields;

  private MetricsEvent(Map<String, Object> fields) {
    this.fields = Collections.unmodifiableMap(fields);
  }

  /** A new event of the given kind, stamped with the wall-clock time in milliseconds. */
  public static MetricsEvent of(String event) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("event", event);
    f.put("time", System.currentTimeMillis());
    return new MetricsEvent(f);
  }

  /** This event with one more field. */
  public MetricsEvent with(String key, Object value) {
    Map<String, Object> f = new LinkedHashMap<>(fields);
    f.put(key, value);
    return new MetricsEvent(f);
  }

  /** The kind: step, eval, checkpoint, resume, failure or done. */
  public String event() {
    return String.valueOf(fields.get("event"));
  }

  /** A numeric field, or NaN when absent. */
  public double number(String key) {
    Object v = fields.get(key);
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  /** All fields, in insertion order. */
  public Map<String, Object> fields() {
    return fields;
  }

  /** One line of JSON. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(fields);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise metrics " + fields, e);
    }
  }

  /** Parses one line of JSON; IllegalArgumentException when it is not a JSON object with an "event". */
  @SuppressWarnings("unchecked")
  public static MetricsEvent fromJson(String line) {
    try {
      Map<String, Object> f = JSON.readValue(line, LinkedHashMap.class);
      if (!(f.get("event") instanceof String)) {
        throw new IllegalArgumentException("metrics line has no \"event\" field: " + abbreviate(line));
      }
      return new MetricsEvent(f);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("metrics line is not JSON: " + abbreviate(line), e);
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 120 ? s : s.substring(0, 117) + "...";
  }

  @Override
  public String toString() {
    return toJson();
  }
}
