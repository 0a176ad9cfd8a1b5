// The hosts fixture itself: what it makes, that a cut link stops traffic and a restored one
// carries it again, that a link counts the bytes it carries, that close and a later run's create leave nothing behind (also of a crashed
// run), and its refusals of bad input. Traffic goes only to the fixture's own addresses. Skipped
// where namespaces cannot be made (not root, no iproute2).
package org.ringtrain.sync.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NetnsHostsTest {
  /** A port nothing listens on inside a fresh namespace: a host that is up answers it with a reset. */
  private static final int CLOSED_PORT = 9;

  @BeforeEach
  void needsNamespaces() {
    String unavailable = NetnsHosts.unavailableReason();
    assumeTrue(unavailable == null, () -> "skipped, no network namespaces here: " + unavailable);
  }

  @Test
  void hostsAreReachableFromTheRootNamespaceUntilTheirLinkIsCutAndAgainOnceRestored() throws Exception {
    try (NetnsHosts hosts = NetnsHosts.create(2)) {
      assertEquals(2, hosts.size());
      assertTrue(hosts.address(0).startsWith("10.213.") && hosts.rootAddress().endsWith(".254"), hosts.toString());
      assertTrue(namespaces().containsAll(List.of(hosts.namespace(0), hosts.namespace(1))), namespaces().toString());
      long[] before = hosts.linkBytes(1);
      assertThrows(ConnectException.class, () -> connect(hosts.address(1)), "refused: host 1 is up");
      long[] after = hosts.linkBytes(1);
      assertTrue(after[1] > before[1] && after[0] > before[0], "host 1's link counts the SYN it received and the"
          + " reset it sent: sent/received " + before[0] + "/" + before[1] + " -> " + after[0] + "/" + after[1]);
      hosts.linkDown(1);
      assertThrows(SocketTimeoutException.class, () -> connect(hosts.address(1)), "silent: host 1 is cut off");
      assertThrows(ConnectException.class, () -> connect(hosts.address(0)), "host 0 is still up");
      hosts.linkUp(1);
      assertThrows(ConnectException.class, () -> connect(hosts.address(1)), "refused again: host 1 is back");
    }
  }

  @Test
  void closeRemovesEveryNamespaceAndDeviceAndCreateRemovesWhatADeadRunLeft() throws Exception {
    long deadPid = 4_000_000;
    while (ProcessHandle.of(deadPid).isPresent()) {
      deadPid++;
    }
    String stale = "rt" + deadPid + "_0";
    Path script = Path.of("../build/netns-hosts.sh").toAbsolutePath();
    assertEquals(0, new ProcessBuilder("bash", script.toString(), "up", stale, "1", "none").start().waitFor());
    assertTrue(namespaces().contains(stale + "h0"), "the crashed run's host exists: " + namespaces());

    NetnsHosts hosts = NetnsHosts.create(1, "500mbit");
    assertFalse(namespaces().contains(stale + "h0"), "create removed the host of a run whose process is gone");
    String mine = hosts.namespace(0);
    String prefix = mine.substring(0, mine.length() - "h0".length());
    hosts.close();
    assertFalse(namespaces().contains(mine), "close removed the namespace");
    assertFalse(run("ip", "-o", "link", "show").contains(prefix), "close removed the bridge and veths");
  }

  @Test
  void badHostCountsAndRatesAreRefusedWithWhatIsExpected() {
    IllegalArgumentException hosts = assertThrows(IllegalArgumentException.class, () -> NetnsHosts.create(0));
    assertEquals("hosts must be in [1, 32], but found 0", hosts.getMessage());
    IllegalArgumentException rate = assertThrows(IllegalArgumentException.class, () -> NetnsHosts.create(2, "1 Gbps"));
    assertEquals("rate must be an integer with unit bit, kbit, mbit or gbit (e.g. 1gbit), or none, but found '1 Gbps'",
        rate.getMessage());
  }

  private static void connect(String host) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, CLOSED_PORT), 1000);
    }
  }

  private static List<String> namespaces() throws Exception {
    return run("ip", "netns", "list").lines().map(l -> l.split(" ")[0]).toList();
  }

  private static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }
}
