/*
 * FlatSettings: reads a tree of validated config records from one flat map of settings (the keys
 * users write in conf/*.yaml, --set flags and checkpoints' JSON) and writes it back flat. It holds
 * no setting and validates nothing itself: each record's compact constructor does.
 */
package org.ringtrain.driver.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A config is a record whose components are either settings (numbers, booleans, strings, enums),
 * each read from the flat key of the same name, or nested records read from the same flat map.
 * So users keep writing {@code learningRate: 0.001} while the code reads
 * {@code config.loop().optimizer().learningRate()}, and every concern has its own small record.
 * Enums are read case-insensitively and written in lower case.
 */
public final class FlatSettings {

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();

  private FlatSettings() {
  }

  /**
   * Builds a {@code type} from {@code flat}, rejecting keys no component of the tree reads.
   *
   * @param what the config's name in messages, e.g. "train config"
   * @throws IllegalArgumentException naming the bad key, its value and what to do, or the unknown
   *     keys with the known ones
   */
  public static <R extends Record> R read(Class<R> type, Map<String, ?> flat, String what) {
    Set<String> known = new TreeSet<>(keys(type));
    Set<String> unknown = new TreeSet<>(flat.keySet());
    unknown.removeAll(known);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("invalid " + what + ": unknown setting(s) " + unknown
          + "; known settings: " + String.join(", ", known));
    }
    return build(type, flat, what);
  }

  /** Every flat key a {@code type} tree reads, in component order. */
  public static List<String> keys(Class<? extends Record> type) {
    List<String> keys = new ArrayList<>();
    for (RecordComponent c : type.getRecordComponents()) {
      if (c.getType().isRecord()) {
        keys.addAll(keys(c.getType().asSubclass(Record.class)));
      } else {
        keys.add(c.getName());
      }
    }
    return keys;
  }

  /** The flat map of a record tree: one key per setting, enums in lower case. */
  public static Map<String, Object> write(Record config) {
    Map<String, Object> flat = new LinkedHashMap<>();
    writeInto(flat, config);
    return flat;
  }

  /** The flat map as JSON, the form checkpoints store. */
  public static String toJson(Record config) {
    try {
      return JSON.writeValueAsString(write(config));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + config.getClass().getSimpleName(), e);
    }
  }

  /** A flat map from JSON written by {@link #toJson}. */
  public static Map<String, Object> fromJson(String json, String what) {
    try {
      return JSON.readValue(json, JSON.getTypeFactory().constructMapType(LinkedHashMap.class, String.class,
          Object.class));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("invalid " + what + " JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static void writeInto(Map<String, Object> flat, Record config) {
    for (RecordComponent c : config.getClass().getRecordComponents()) {
      Object value;
      try {
        value = c.getAccessor().invoke(config);
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new IllegalStateException("cannot read " + c.getName() + " of " + config.getClass().getName(), e);
      }
      if (value instanceof Record nested) {
        writeInto(flat, nested);
      } else if (value instanceof Enum<?> e) {
        flat.put(c.getName(), e.name().toLowerCase(Locale.ROOT));
      } else {
        flat.put(c.getName(), value);
      }
    }
  }

  private static <R extends Record> R build(Class<R> type, Map<String, ?> flat, String what) {
    RecordComponent[] components = type.getRecordComponents();
    Object[] args = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      RecordComponent c = components[i];
      types[i] = c.getType();
      if (c.getType().isRecord()) {
        args[i] = build(c.getType().asSubclass(Record.class), flat, what);
      } else if (!flat.containsKey(c.getName()) && c.getType().isPrimitive()) {
        throw new IllegalArgumentException("invalid " + what + ": " + c.getName() + " is required; give it in the"
            + " config file or as a flag");
      } else if (!flat.containsKey(c.getName())) {
        args[i] = null; // the record's own check names what to give
      } else {
        args[i] = convert(flat.get(c.getName()), c, what);
      }
    }
    try {
      Constructor<R> constructor = type.getDeclaredConstructor(types);
      constructor.setAccessible(true);
      return constructor.newInstance(args);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof IllegalArgumentException bad) {
        throw bad;
      }
      throw new IllegalStateException("cannot build " + type.getSimpleName(), e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot build " + type.getSimpleName(), e);
    }
  }

  private static Object convert(Object value, RecordComponent c, String what) {
    try {
      Object converted = JSON.convertValue(value, c.getType());
      if (converted == null && c.getType().isPrimitive()) {
        throw new IllegalArgumentException("null");
      }
      return converted;
    } catch (IllegalArgumentException e) {
      String expected = c.getType().isEnum() ? "one of " + enumNames(c.getType()) : "a " + c.getType().getSimpleName();
      throw new IllegalArgumentException("invalid " + what + ": " + c.getName() + " = " + value + "; expected "
          + expected, e);
    }
  }

  private static List<String> enumNames(Class<?> type) {
    List<String> names = new ArrayList<>();
    for (Object constant : type.getEnumConstants()) {
      names.add(((Enum<?>) constant).name().toLowerCase(Locale.ROOT));
    }
    return names;
  }
}
