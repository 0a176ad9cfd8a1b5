// The rate limit and the tally of DroppedConnections, on a clock the test
// moves: a flood of drops makes one log line per second, each line counts the
// drops it stands for, none goes unaccounted at the end, and the summary for
// the set-up's deadline error says how many and why the last one.
package org.ringtrain.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class DroppedConnectionsTest {
  private final AtomicLong now = new AtomicLong(5_000_000_000L);
  private final List<String> lines = new ArrayList<>();
  private final DroppedConnections dropped = new DroppedConnections(3, now::get, lines::add);

  @Test
  void aFloodOfDropsLogsAtMostOneLinePerSecondAndCountsTheRest() {
    for (int i = 0; i < 100; i++) {
      dropped.dropped("/10.0.0.9:" + (40000 + i), "closed the connection without sending anything");
      now.addAndGet(5_000_000); // 5 ms apart: 100 drops in half a second
    }
    assertEquals(List.of("rank 3 dropped an unauthenticated connection from /10.0.0.9:40000: closed the "
        + "connection without sending anything"), lines);
    now.addAndGet(DroppedConnections.LOG_INTERVAL_NANOS);
    dropped.turnedAway("/10.0.0.9:50000", 32);
    assertEquals(2, lines.size(), lines.toString());
    assertTrue(lines.get(1).contains("from /10.0.0.9:50000: closed unread, 32 handshakes were already pending")
        && lines.get(1).endsWith("(99 more dropped since the last such line)"), lines.get(1));
    dropped.dropped("/10.0.0.9:50001", "reset");
    dropped.finish();
    assertEquals("rank 3 dropped 1 more unauthenticated connection after the last logged one; 102 in all during "
        + "this set-up", lines.get(2));
    assertEquals(102, dropped.count());
  }

  @Test
  void theSummaryCountsTheDropsAndQuotesTheLast() {
    assertEquals("", dropped.summary());
    dropped.turnedAway("/10.0.0.9:1", 32);
    dropped.dropped("unix socket /tmp/ringtrain-0/ring.sock", "it did not prove knowledge of the run secret");
    assertEquals("; meanwhile it dropped 2 unauthenticated connections (1 turned away unread at the cap), the "
        + "last from unix socket /tmp/ringtrain-0/ring.sock: it did not prove knowledge of the run secret",
        dropped.summary());
    dropped.finish();
    assertEquals(2, lines.size(), "nothing was left unlogged: " + lines);
  }
}
