/*
 * ChildJvm: runs a benchmark's main class again in a child JVM with this JVM's flags and class
 * path, on the fused float32 kernels or on the ND4J compositions (-Dringtrain.kernels.nd4j=true,
 * decided once per JVM by Fused.AVAILABLE), the Transformer classifier on packed rows or on every
 * padded position (-Dringtrain.classifier.padded=true), and hands back the child's result lines
 * while passing the rest of its output through. It measures nothing itself.
 */
package org.ringtrain.bench.model;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Child JVMs of the classifier benchmarks, one kernel path each. */
final class ChildJvm {

  /** The prefix of the lines a child prints for its parent to parse. */
  static final String RESULT = "RESULT";
  private static final String KERNELS_ND4J = "ringtrain.kernels.nd4j";
  private static final String CLASSIFIER_PADDED = "ringtrain.classifier.padded";

  private ChildJvm() {
  }

  /**
   * Runs {@code main} with {@code args} in a child JVM and returns the lines it printed that start
   * with {@link #RESULT}; its other lines go to stdout. With {@code nd4j}, the first version's
   * computation: ND4J compositions, and the Transformer classifier over every padded position.
   *
   * @throws IllegalStateException when the child exits with a non-zero status
   */
  static List<String> run(Class<?> main, boolean nd4j, List<String> args) throws IOException, InterruptedException {
    return run(main, nd4j, nd4j, args);
  }

  /**
   * As {@link #run(Class, boolean, List)}, choosing the kernels ({@code nd4j}) and the Transformer
   * classifier's layout ({@code padded}, else packed rows) apart.
   */
  static List<String> run(Class<?> main, boolean nd4j, boolean padded, List<String> args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!flag.startsWith("-D" + KERNELS_ND4J) && !flag.startsWith("-D" + CLASSIFIER_PADDED)) {
        cmd.add(flag);
      }
    }
    if (nd4j) {
      cmd.add("-D" + KERNELS_ND4J + "=true");
    }
    if (padded) {
      cmd.add("-D" + CLASSIFIER_PADDED + "=true");
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    List<String> results = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (line.startsWith(RESULT + " ")) {
          results.add(line);
        } else {
          System.out.println(line);
        }
      }
    }
    int rc = p.waitFor();
    if (rc != 0) {
      throw new IllegalStateException("the " + (nd4j ? "ND4J" : "fused") + " child JVM exited with " + rc
          + "; its errors are above. Command: " + String.join(" ", cmd));
    }
    return results;
  }
}
