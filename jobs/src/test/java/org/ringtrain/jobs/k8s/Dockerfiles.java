// A small reader of ringtrain's Dockerfiles for static checks: instructions with line
// continuations joined and comments dropped, ${ARG} references replaced by the ARG defaults in
// force at that point. It is not a Docker parser (no heredocs, no escape directive) and builds
// nothing: there is no Docker engine in the test environment.
package org.ringtrain.jobs.k8s;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a Dockerfile into its instructions. */
public final class Dockerfiles {
  private static final Pattern REF = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}|\\$([A-Za-z_][A-Za-z0-9_]*)");

  /** One instruction: its keyword (upper case) and its arguments with ARG defaults substituted. */
  public record Instruction(String keyword, String args, int stage) {
  }

  private Dockerfiles() {
  }

  /** The instructions of a Dockerfile; {@code stage} counts FROM lines from 0. */
  public static List<Instruction> read(Path dockerfile) throws IOException {
    List<String> logical = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : Files.readAllLines(dockerfile)) {
      String trimmed = line.strip();
      if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.length() == 0)) {
        continue;
      }
      if (trimmed.endsWith("\\")) {
        current.append(trimmed, 0, trimmed.length() - 1).append(' ');
        continue;
      }
      current.append(trimmed);
      logical.add(current.toString().strip());
      current.setLength(0);
    }
    List<Instruction> out = new ArrayList<>();
    Map<String, String> globalArgs = new HashMap<>();
    Map<String, String> args = globalArgs;
    int stage = -1;
    for (String line : logical) {
      String[] parts = line.split("\\s+", 2);
      String keyword = parts[0].toUpperCase(Locale.ROOT);
      String rest = parts.length > 1 ? parts[1] : "";
      if ("FROM".equals(keyword)) {
        stage++;
        rest = substitute(rest, globalArgs);
        args = new HashMap<>();
      } else if ("ARG".equals(keyword)) {
        String[] kv = rest.split("=", 2);
        String value = kv.length > 1 ? substitute(kv[1], stage < 0 ? globalArgs : args) : globalArgs.get(kv[0]);
        (stage < 0 ? globalArgs : args).put(kv[0].strip(), value);
      } else if (!"RUN".equals(keyword)) {
        // RUN lines keep their shell variables; the others are resolved the way the builder does.
        rest = substitute(rest, args);
      }
      out.add(new Instruction(keyword, rest, stage));
    }
    return out;
  }

  private static String substitute(String text, Map<String, String> args) {
    Matcher m = REF.matcher(text);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      String value = args.get(name);
      m.appendReplacement(sb, Matcher.quoteReplacement(value != null ? value : m.group()));
    }
    m.appendTail(sb);
    return sb.toString();
  }
}
