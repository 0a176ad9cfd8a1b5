// Test fixture: K "hosts" on this machine, each a Linux network namespace with its own address,
// joined by a bridge over bandwidth-limited veth links (build/netns-hosts.sh does the ip/tc work).
// Processes run inside a host through `ip netns exec`. It is not a network emulator: tbf limits
// the rate and a link can go down, but there is no latency or loss (this kernel has no netem).
// Only addresses it created are handed out, so tests never send traffic anywhere else.
package org.ringtrain.sync.netns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * K hosts made by {@link #create(int, String)} and removed by {@link #close()}, or at JVM exit if
 * a test never closes them; leftovers of a crashed JVM are removed by the next {@code create}
 * (names carry the owning pid). Host {@code i} has address {@link #address(int)}; the root
 * namespace (this JVM) reaches every host at {@link #rootAddress()}. Needs root and iproute2;
 * callers skip where {@link #unavailableReason()} is not null.
 */
public final class NetnsHosts implements AutoCloseable {
  /** Default link rate of every host: 1 Gbit/s, in both directions. */
  public static final String DEFAULT_RATE = "1gbit";
  private static final Pattern RATE = Pattern.compile("none|[1-9][0-9]*(k|m|g)?bit");
  private static final AtomicInteger RUNS = new AtomicInteger();
  private static final long SCRIPT_TIMEOUT_SECONDS = 120;

  private final Path script;
  private final String prefix;
  private final String rootAddress;
  private final List<String> namespaces = new ArrayList<>();
  private final List<String> addresses = new ArrayList<>();
  private final Thread exitHook;
  private boolean closed;

  private NetnsHosts(Path script, String prefix, List<String> upOutput) {
    this.script = script;
    this.prefix = prefix;
    String bridge = null;
    for (String line : upOutput) {
      String[] f = line.trim().split(" ");
      if (f[0].equals("bridge")) {
        bridge = f[1];
      } else if (f[0].equals("host")) {
        namespaces.add(f[2]);
        addresses.add(f[3]);
      }
    }
    this.rootAddress = bridge;
    this.exitHook = new Thread(this::down, "netns-hosts-teardown-" + prefix);
    Runtime.getRuntime().addShutdownHook(exitHook);
  }

  /**
   * Why this machine cannot host the fixture (not Linux, not root, no {@code ip}/{@code tc}, no
   * script), or null when it can. Tests use it in an assumption, so they skip with this message.
   */
  public static String unavailableReason() {
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
      return "network namespaces need Linux; this is " + System.getProperty("os.name");
    }
    try {
      String status = Files.readString(Path.of("/proc/self/status"));
      if (!Pattern.compile("(?m)^Uid:\\s+0\\s").matcher(status).find()) {
        return "network namespaces need root (CAP_NET_ADMIN); run the tests as root, as CI does";
      }
    } catch (IOException e) {
      return "cannot read /proc/self/status to check for root: " + e.getMessage();
    }
    for (String tool : List.of("ip", "tc")) {
      if (findOnPath(tool) == null) {
        return "'" + tool + "' (iproute2) is not on the PATH or in /sbin, /usr/sbin; install iproute2";
      }
    }
    return findScript() == null ? "build/netns-hosts.sh not found above " + Path.of("").toAbsolutePath() : null;
  }

  /**
   * Creates {@code hosts} hosts whose links run at {@code rate} (e.g. "1gbit", "500mbit"; "none"
   * for unlimited; default {@value #DEFAULT_RATE}).
   *
   * @throws IllegalArgumentException for a bad host count or rate
   * @throws IllegalStateException when the script fails (its output is in the message)
   */
  public static NetnsHosts create(int hosts, String rate) {
    if (hosts < 1 || hosts > 32) {
      throw new IllegalArgumentException("hosts must be in [1, 32], but found " + hosts);
    }
    requireRate(rate);
    String reason = unavailableReason();
    if (reason != null) {
      throw new IllegalStateException("cannot create network namespaces: " + reason);
    }
    Path script = findScript();
    String prefix = "rt" + ProcessHandle.current().pid() + "_" + RUNS.getAndIncrement();
    List<String> out = runScript(script, "up", prefix, Integer.toString(hosts), rate);
    NetnsHosts made = new NetnsHosts(script, prefix, out);
    if (made.namespaces.size() != hosts || made.rootAddress == null) {
      made.close();
      throw new IllegalStateException("netns-hosts.sh up made " + made.namespaces.size() + " of " + hosts
          + " hosts; its output was: " + out);
    }
    return made;
  }

  /** {@link #create(int, String)} at {@value #DEFAULT_RATE}. */
  public static NetnsHosts create(int hosts) {
    return create(hosts, DEFAULT_RATE);
  }

  /**
   * A rate in bits per second, e.g. 1e9 for "1gbit".
   *
   * @throws IllegalArgumentException for "none" or a malformed rate, saying what is expected
   */
  public static double bitsPerSecond(String rate) {
    requireRate(rate);
    if (rate.equals("none")) {
      throw new IllegalArgumentException("rate 'none' is unlimited and has no bits per second; give a limit such as "
          + DEFAULT_RATE);
    }
    String n = rate.substring(0, rate.length() - "bit".length());
    double mult = switch (n.charAt(n.length() - 1)) {
      case 'k' -> 1e3;
      case 'm' -> 1e6;
      case 'g' -> 1e9;
      default -> 1;
    };
    return Double.parseDouble(mult == 1 ? n : n.substring(0, n.length() - 1)) * mult;
  }

  /** Number of hosts. */
  public int size() {
    return namespaces.size();
  }

  /** Host {@code host}'s IPv4 address on the test network. */
  public String address(int host) {
    return addresses.get(checkHost(host));
  }

  /** The root namespace's address on the test network (the bridge): where this JVM listens for hosts. */
  public String rootAddress() {
    return rootAddress;
  }

  /** The network namespace name of host {@code host}. */
  public String namespace(int host) {
    return namespaces.get(checkHost(host));
  }

  /** {@code command} prefixed so that it runs inside host {@code host}. */
  public List<String> inHost(int host, List<String> command) {
    List<String> full = new ArrayList<>(List.of(ipTool(), "netns", "exec", namespace(host)));
    full.addAll(command);
    return full;
  }

  /** Sets host {@code host}'s link down: its traffic stops in both directions, sockets stay open. */
  public void linkDown(int host) {
    runScript(script, "link", prefix, Integer.toString(checkHost(host)), "down");
  }

  /** Brings host {@code host}'s link back up. */
  public void linkUp(int host) {
    runScript(script, "link", prefix, Integer.toString(checkHost(host)), "up");
  }

  /** Changes host {@code host}'s link rate, both directions ("none" removes the limit). */
  public void setRate(int host, String rate) {
    requireRate(rate);
    runScript(script, "rate", prefix, Integer.toString(checkHost(host)), rate);
  }

  /**
   * Bytes host {@code host} has sent and received over its link since it was made, as {sent,
   * received}: its eth0's counters, which count every frame with its Ethernet, IP and TCP headers.
   */
  public long[] linkBytes(int host) {
    List<String> out = run(inHost(host, List.of("cat", "/sys/class/net/eth0/statistics/tx_bytes",
        "/sys/class/net/eth0/statistics/rx_bytes")));
    return new long[] {Long.parseLong(out.get(0).trim()), Long.parseLong(out.get(1).trim())};
  }

  /** Removes every namespace and device of these hosts; processes still inside lose their network. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(exitHook);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs now and removes them itself
    }
    down();
  }

  @Override
  public String toString() {
    return "NetnsHosts[" + prefix + ", hosts " + addresses + ", root " + rootAddress + "]";
  }

  private void down() {
    runScript(script, "down", prefix);
  }

  private int checkHost(int host) {
    if (host < 0 || host >= namespaces.size()) {
      throw new IllegalArgumentException("host must be in [0, " + namespaces.size() + "), but found " + host);
    }
    return host;
  }

  private static void requireRate(String rate) {
    if (rate == null || !RATE.matcher(rate).matches()) {
      throw new IllegalArgumentException("rate must be an integer with unit bit, kbit, mbit or gbit (e.g. "
          + DEFAULT_RATE + "), or none, but found '" + rate + "'");
    }
  }

  private static List<String> runScript(Path script, String... args) {
    List<String> command = new ArrayList<>(List.of("bash", script.toString()));
    command.addAll(List.of(args));
    return run(command);
  }

  /** Runs {@code command} to its end and returns its output lines; fails naming it and its output. */
  private static List<String> run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(SCRIPT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish in "
            + SCRIPT_TIMEOUT_SECONDS + " s");
      }
      String text = new String(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed with status " + p.exitValue()
            + ": " + text.strip());
      }
      return text.lines().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("could not run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command, e);
    }
  }

  private static String ipTool() {
    Path ip = findOnPath("ip");
    return ip == null ? "ip" : ip.toString();
  }

  private static Path findOnPath(String tool) {
    List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
    dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
    for (String dir : dirs) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return Path.of(dir, tool);
      }
    }
    return null;
  }

  /** build/netns-hosts.sh in this checkout: tests run in a module directory, benchmarks at the root. */
  private static Path findScript() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("build/netns-hosts.sh");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
