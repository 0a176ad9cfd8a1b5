// The ring between "hosts" (network namespaces on this machine, NetnsHosts) joined by 1 Gbit/s
// links, every rank its own JVM: the transport each link takes (Unix sockets within a host, TCP
// between hosts, since the host identity includes the network namespace), closed-form sums over
// world sizes 2-4 and odd lengths (0 to 262147 floats) with every rank bitwise equal, and a link cut mid-all-reduce
// ending in a timeout that names the unreachable peer. Skipped where namespaces cannot be made
// (not root, no iproute2). One set of three hosts serves the class (~1 s to make).
package org.ringtrain.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.ringtrain.sync.netns.NetnsHosts;
import org.ringtrain.sync.netns.RankProcesses;

@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RingAcrossHostsTest {
  private static final Path WORK = Path.of("target/tmp/ring-across-hosts");
  /** Rank JVMs: small heaps; direct memory for the largest buffer below (16 MiB) and the ring's staging. */
  private static final String RANK_MEMORY = "-Xmx48m -XX:MaxDirectMemorySize=96m";
  private static final String COUNTS = "counts=0,1,2,3,7,1001,65537,262147";
  private static NetnsHosts hosts;

  @BeforeAll
  static void makeHosts() {
    String unavailable = NetnsHosts.unavailableReason();
    assumeTrue(unavailable == null, () -> "skipped, no network namespaces here: " + unavailable);
    hosts = NetnsHosts.create(3);
  }

  @AfterAll
  static void removeHosts() {
    if (hosts != null) {
      hosts.close();
    }
  }

  @Test
  void ranksOnOneHostLinkOverUnixSocketsAndRanksOnTwoHostsOverTcpAndAllAgree() throws Exception {
    // ranks 0,1 on host 0 and 2,3 on host 1: links 0->1 and 2->3 stay on a host, 1->2 and 3->0 cross
    int[] placement = {0, 0, 1, 1};
    List<String> links = new ArrayList<>();
    try (RankProcesses ring = RankProcesses.start(hosts, placement, WORK, RANK_MEMORY, "mode=check", COUNTS)) {
      assertArrayEquals(new int[4], ring.awaitExit(Duration.ofSeconds(60)), ring.describe());
      for (int r = 0; r < 4; r++) {
        links.add(ring.line(r, "links ").orElseThrow().split(" leftPeer=")[0]);
      }
      assertAllChecked(ring);
    }
    assertEquals(List.of("links left=TCP right=UNIX", "links left=UNIX right=TCP", "links left=TCP right=UNIX",
        "links left=UNIX right=TCP"), links, "transport of each rank's left and right link");
  }

  @ParameterizedTest(name = "world size {0}, one rank per host")
  @ValueSource(ints = {2, 3})
  void everyRankGetsTheClosedFormSumBitwiseAlikeAcrossHosts(int worldSize) throws Exception {
    int[] placement = new int[worldSize];
    for (int r = 0; r < worldSize; r++) {
      placement[r] = r;
    }
    try (RankProcesses ring = RankProcesses.start(hosts, placement, WORK, RANK_MEMORY, "mode=check", COUNTS)) {
      assertArrayEquals(new int[worldSize], ring.awaitExit(Duration.ofSeconds(60)), ring.describe());
      assertAllChecked(ring);
    }
  }

  @Test
  void aLinkCutMidAllReduceTimesOutWithinTheIoTimeoutNamingTheUnreachablePeer() throws Exception {
    int ioTimeoutSeconds = 4;
    for (int h = 0; h < hosts.size(); h++) {
      hosts.setRate(h, "200mbit"); // a 16 MiB all-reduce takes ~1 s: the cut lands inside one
    }
    try (RankProcesses ring = RankProcesses.start(hosts, new int[] {0, 1, 2}, WORK, RANK_MEMORY, "mode=stall",
        "bytes=" + (16 << 20), "ioTimeoutSeconds=" + ioTimeoutSeconds)) {
      ring.awaitLine(0, "started 1", Duration.ofSeconds(60));
      Thread.sleep(300); // into the second all-reduce, with frames in flight
      long cut = System.nanoTime();
      hosts.linkDown(2);
      int[] status = ring.awaitExit(Duration.ofSeconds(ioTimeoutSeconds + 20));
      double seconds = (System.nanoTime() - cut) / 1e9;
      assertArrayEquals(new int[] {3, 3, 3}, status, "every rank's ring fails" + ring.describe());
      assertTrue(seconds < ioTimeoutSeconds + 6, "the ring failed " + seconds + " s after the cut, ioTimeout "
          + ioTimeoutSeconds + " s" + ring.describe());
      String unreachable = "rank 2 (" + hosts.address(2) + ":";
      String neighbours = ring.line(0, "failed").orElseThrow() + " / " + ring.line(1, "failed").orElseThrow();
      assertTrue(neighbours.contains("op=TIMEOUT") && neighbours.contains(unreachable),
          "a neighbour of host 2 timed out naming " + unreachable + "...: " + neighbours);
      String cutOff = ring.line(2, "failed").orElseThrow();
      assertTrue(cutOff.contains("op=TIMEOUT") && (cutOff.contains("rank 0 (" + hosts.address(0) + ":")
          || cutOff.contains("rank 1 (" + hosts.address(1) + ":")), "host 2 names a peer it lost: " + cutOff);
    } finally {
      hosts.linkUp(2);
      for (int h = 0; h < hosts.size(); h++) {
        hosts.setRate(h, NetnsHosts.DEFAULT_RATE);
      }
    }
  }

  /** Every rank checked every count (closed-form sums, in RingRankMain) and hashed alike. */
  private static void assertAllChecked(RankProcesses ring) throws Exception {
    List<String> rank0 = checked(ring, 0);
    assertEquals(COUNTS.split(",").length, rank0.size(), ring.describe());
    for (int r = 1; r < ring.size(); r++) {
      assertEquals(rank0, checked(ring, r), "rank " + r + "'s results hash like rank 0's" + ring.describe());
    }
  }

  private static List<String> checked(RankProcesses ring, int rank) throws Exception {
    return ring.lines(rank).stream().filter(l -> l.startsWith("checked ")).toList();
  }
}
