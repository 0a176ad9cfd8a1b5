// Launches one ring as N RingRankMain processes placed on NetnsHosts (rank r inside host
// hostOfRank[r], listening on that host's address), from this JVM's own classpath, and reads
// back what they report. It is the multi-process counterpart of RingHarness; it does not know what
// the ranks compute, only how to start, watch and stop them.
package org.ringtrain.sync.netns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.ringtrain.sync.RingSecret;

/** N rank processes of one ring; {@link #close()} kills any still running. */
public final class RankProcesses implements AutoCloseable {
  private final List<Process> processes = new ArrayList<>();
  private final List<Path> logs = new ArrayList<>();
  private final Path board;

  private RankProcesses(Path board) {
    this.board = board;
  }

  /**
   * Starts rank r of a ring of {@code hostOfRank.length} ranks in host {@code hostOfRank[r]}.
   *
   * @param workDir    a directory for this ring's board, logs and temp files (made fresh inside it)
   * @param jvmMemory  JVM memory flags of every rank, e.g. "-Xmx64m -XX:MaxDirectMemorySize=64m"
   * @param rankArgs   RingRankMain's arguments besides board, rank, world and host (mode=..., ...);
   *                   with mode=bench the ranks get the optimising JIT, otherwise only the quick one
   *                   (they start faster, which is what a correctness test waits for)
   */
  public static RankProcesses start(NetnsHosts hosts, int[] hostOfRank, Path workDir, String jvmMemory,
      String... rankArgs) throws IOException {
    Path board = Files.createTempDirectory(Files.createDirectories(workDir), "ring-");
    byte[] secret = new byte[RingSecret.GENERATED_BYTES];
    new SecureRandom().nextBytes(secret);
    Files.writeString(board.resolve("secret"), Base64.getEncoder().encodeToString(secret), StandardCharsets.US_ASCII);
    RankProcesses ring = new RankProcesses(board);
    boolean fullJit = List.of(rankArgs).contains("mode=bench");
    try {
      for (int r = 0; r < hostOfRank.length; r++) {
        List<String> java = new ArrayList<>(List.of(javaBinary()));
        java.addAll(List.of(jvmMemory.trim().split("\\s+")));
        java.addAll(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=" + (fullJit ? 4 : 1), "-XX:+IgnoreUnrecognizedVMOptions",
            "--add-modules=jdk.incubator.vector", "-Djava.io.tmpdir=" + board,
            "-cp", System.getProperty("java.class.path"), RingRankMain.class.getName(),
            "board=" + board, "rank=" + r, "world=" + hostOfRank.length, "host=" + hosts.address(hostOfRank[r])));
        java.addAll(List.of(rankArgs));
        Path log = board.resolve("rank-" + r + ".log");
        ring.logs.add(log);
        ring.processes.add(new ProcessBuilder(hosts.inHost(hostOfRank[r], java)).redirectErrorStream(true)
            .redirectOutput(log.toFile()).start());
      }
    } catch (IOException | RuntimeException e) {
      ring.close();
      throw e;
    }
    return ring;
  }

  /** Number of ranks. */
  public int size() {
    return processes.size();
  }

  /** What rank {@code rank} printed so far, line by line. */
  public List<String> lines(int rank) throws IOException {
    return Files.readAllLines(logs.get(rank), StandardCharsets.UTF_8);
  }

  /** The first line of rank {@code rank} that starts with {@code prefix}, if any yet. */
  public Optional<String> line(int rank, String prefix) throws IOException {
    return lines(rank).stream().filter(l -> l.startsWith(prefix)).findFirst();
  }

  /**
   * Waits until rank {@code rank} prints a line starting with {@code prefix} and returns it.
   *
   * @throws IllegalStateException when it exits first or {@code timeout} passes (with its output)
   */
  public String awaitLine(int rank, String prefix, Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<String> found = line(rank, prefix);
      if (found.isPresent()) {
        return found.get();
      }
      if (!processes.get(rank).isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("rank " + rank + " printed no '" + prefix + "' line "
            + (processes.get(rank).isAlive() ? "within " + timeout : "before it exited") + "; it printed: "
            + lines(rank));
      }
      Thread.sleep(20);
    }
  }

  /**
   * Waits for every rank to exit and returns their exit statuses, in rank order.
   *
   * @throws IllegalStateException when one is still running after {@code timeout} (with every rank's output)
   */
  public int[] awaitExit(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int[] status = new int[processes.size()];
    for (int r = 0; r < processes.size(); r++) {
      long left = Math.max(1, deadline - System.nanoTime());
      if (!processes.get(r).waitFor(left, TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException("rank " + r + " still runs after " + timeout + "; output: " + describe());
      }
      status[r] = processes.get(r).exitValue();
    }
    return status;
  }

  /** Every rank's output, for failure messages. */
  public String describe() throws IOException {
    StringBuilder text = new StringBuilder();
    for (int r = 0; r < logs.size(); r++) {
      text.append("\n  rank ").append(r).append(": ").append(lines(r));
    }
    return text.toString();
  }

  /** The directory holding the board and the ranks' logs. */
  public Path board() {
    return board;
  }

  @Override
  public void close() {
    for (Process p : processes) {
      p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    for (Process p : processes) {
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static String javaBinary() {
    return ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }
}
