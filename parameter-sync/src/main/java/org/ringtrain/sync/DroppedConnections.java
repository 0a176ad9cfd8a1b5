// The tally and the log of the incoming connections one rank dropped during
// its set-up because they did not authenticate. Strangers choose how many of
// these there are, so the log is rate-limited: at most one WARN line per
// second, each saying how many drops went unlogged since the one before, and
// one closing line for the rest. The tally goes into the set-up's deadline
// error. Not a security audit log; only the accept thread uses it.
package org.ringtrain.sync;

import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Counts and logs (rate-limited) the unauthenticated connections a rank dropped. */
final class DroppedConnections {
  private static final Logger LOG = LoggerFactory.getLogger(DroppedConnections.class);
  /** At most one log line per this many nanoseconds: 1 s. */
  static final long LOG_INTERVAL_NANOS = 1_000_000_000L;

  private final int rank;
  private final LongSupplier clock;
  private final Consumer<String> sink;
  private int dropped;
  private int turnedAway;
  private int unlogged;
  private boolean logged;
  private long lastLineNanos;
  private String last;

  /** Logging to this class's logger at WARN. */
  DroppedConnections(int rank) {
    this(rank, System::nanoTime, LOG::warn);
  }

  /** Reading the time from {@code clock} (nanoseconds) and writing lines to {@code sink}: for tests. */
  DroppedConnections(int rank, LongSupplier clock, Consumer<String> sink) {
    this.rank = rank;
    this.clock = clock;
    this.sink = sink;
  }

  /** A connection from {@code from} was dropped because of {@code reason}. */
  void dropped(String from, String reason) {
    dropped++;
    last = "from " + from + ": " + reason;
    long now = clock.getAsLong();
    if (logged && now - lastLineNanos < LOG_INTERVAL_NANOS) {
      unlogged++;
      return;
    }
    sink.accept("rank " + rank + " dropped an unauthenticated connection " + last
        + (unlogged == 0 ? "" : " (" + unlogged + " more dropped since the last such line)"));
    logged = true;
    lastLineNanos = now;
    unlogged = 0;
  }

  /** A connection from {@code from} was closed unread because {@code pending} handshakes were under way. */
  void turnedAway(String from, int pending) {
    turnedAway++;
    dropped(from, "closed unread, " + pending + " handshakes were already pending (RingConfig.maxPendingHandshakes)");
  }

  /** How many connections were dropped so far, turned-away ones included. */
  int count() {
    return dropped;
  }

  /** For an error message: empty when nothing was dropped, else "; meanwhile it dropped N ...". */
  String summary() {
    if (dropped == 0) {
      return "";
    }
    return "; meanwhile it dropped " + dropped + " unauthenticated connection" + (dropped == 1 ? "" : "s")
        + (turnedAway == 0 ? "" : " (" + turnedAway + " turned away unread at the cap)") + ", the last " + last;
  }

  /** Ends the set-up's tally: logs how many drops the rate limit kept out of the log, if any. */
  void finish() {
    if (unlogged > 0) {
      sink.accept("rank " + rank + " dropped " + unlogged + " more unauthenticated connection" + (unlogged == 1 ? "" : "s")
          + " after the last logged one; " + dropped + " in all during this set-up");
      unlogged = 0;
    }
  }
}
