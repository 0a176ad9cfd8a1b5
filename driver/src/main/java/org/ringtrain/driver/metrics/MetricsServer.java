// The driver's end of the metrics channel. Listens on the driver's own
// address (never all interfaces) and serves every connection on its own thread
// (MetricsConnection), so no peer can hold the channel: a stranger must prove
// knowledge of the run secret within an authentication deadline, at most a few
// strangers wait at once (the oldest is dropped for a newcomer), and an
// authenticated rank 0 is closed when it falls idle or when rank 0 of the same
// or a newer stage attempt authenticates (a retry supersedes a dead attempt).
// Only the current connection's events reach the sinks. It is not a general
// event bus: one rank 0 reports at a time.
package org.ringtrain.driver.metrics;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.ringtrain.sync.RingSecret;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Receives metrics from rank 0 during training; close it when the stage ends. */
public final class MetricsServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);

  /** Time a new connection has to send a valid hello: default 5 s (a real rank 0 needs milliseconds). */
  static final Duration DEFAULT_AUTH_TIMEOUT = Duration.ofSeconds(5);
  /**
   * Silence after which an authenticated rank 0 is closed: default 10 min. A retry does not wait
   * for it (the retry's rank 0 supersedes the old connection at once); it only frees a channel
   * whose peer vanished with no retry coming. A healthy rank 0 is quiet for one step, evaluation
   * or checkpoint at most, which the ring timeout (default 300 s) must already exceed, so twice
   * that default leaves room; a rank 0 closed for being slow only loses live metrics, never the run.
   */
  static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
  /** Connections waiting to authenticate at once: default 16; a newcomer beyond it drops the oldest. */
  static final int DEFAULT_MAX_PENDING = 16;
  /** At most one warning about dropped strangers per interval; the rest are counted into the next. */
  private static final long STRANGER_WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final long ACCEPT_BACKOFF_MS = 100;

  private final ServerSocket server;
  private final RingSecret secret;
  private final Duration authTimeout;
  private final Duration idleTimeout;
  private final int maxPending;
  private final List<MetricsSink> sinks = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  // Lock order: sinks, then state. Delivery holds sinks while it checks the current connection;
  // admission holds both to switch it, so no superseded connection delivers after the switch.
  private final Object state = new Object();
  private final Set<MetricsConnection> pending = new LinkedHashSet<>(); // guarded by state, oldest first
  private MetricsConnection current; // guarded by state
  private int newestAttempt = -1; // guarded by state
  private boolean closed; // guarded by state
  private long lastStrangerWarnNanos; // guarded by state
  private int strangersSinceWarn; // guarded by state
  private int connectionCount; // acceptor thread only

  /** Starts listening on {@code host} (the driver's bind address), any free port, with the default timeouts. */
  public MetricsServer(String host, RingSecret secret) throws IOException {
    this(host, secret, DEFAULT_AUTH_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_PENDING);
  }

  /** As above with explicit limits (tests use short ones). */
  MetricsServer(String host, RingSecret secret, Duration authTimeout, Duration idleTimeout, int maxPending)
      throws IOException {
    if (authTimeout.toMillis() < 1 || idleTimeout.toMillis() < 1 || maxPending < 1) {
      throw new IllegalArgumentException("metrics server limits must be positive, but found authTimeout="
          + authTimeout + ", idleTimeout=" + idleTimeout + ", maxPending=" + maxPending);
    }
    this.secret = secret;
    this.authTimeout = authTimeout;
    this.idleTimeout = idleTimeout;
    this.maxPending = maxPending;
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getByName(host), 0), 50);
    this.acceptor = new Thread(this::acceptLoop, "ringtrain-metrics-server");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The port rank 0 connects to. */
  public int port() {
    return server.getLocalPort();
  }

  /** Adds a sink; events are delivered to every sink in the order sinks were added. */
  public MetricsServer addSink(MetricsSink sink) {
    sinks.add(sink);
    return this;
  }

  /** Delivers an event that originates on the driver itself (e.g. a stage failure). */
  public void publish(MetricsEvent event) {
    synchronized (sinks) {
      for (MetricsSink sink : sinks) {
        try {
          sink.accept(event);
        } catch (RuntimeException e) {
          LOG.warn("metrics sink {} failed on {}: {}", sink, event.event(), e.toString());
        }
      }
    }
  }

  RingSecret secret() {
    return secret;
  }

  Duration authTimeout() {
    return authTimeout;
  }

  Duration idleTimeout() {
    return idleTimeout;
  }

  private void acceptLoop() {
    while (true) {
      Socket socket;
      try {
        socket = server.accept();
      } catch (IOException e) {
        if (isClosed()) {
          return;
        }
        LOG.warn("metrics server could not accept a connection: {}", e.toString());
        sleepQuietly(ACCEPT_BACKOFF_MS); // e.g. out of file descriptors: do not spin
        continue;
      }
      MetricsConnection connection = new MetricsConnection(this, socket);
      MetricsConnection evicted = null;
      synchronized (state) {
        if (closed) {
          connection.end();
          return;
        }
        if (pending.size() >= maxPending) {
          Iterator<MetricsConnection> oldest = pending.iterator();
          evicted = oldest.next();
          oldest.remove();
        }
        pending.add(connection);
      }
      if (evicted != null) {
        refuseStranger(evicted, "more than " + maxPending + " connections were waiting to authenticate; "
            + "dropped the oldest");
      }
      Thread handler = new Thread(connection, "ringtrain-metrics-connection-" + (++connectionCount));
      handler.setDaemon(true);
      handler.start();
    }
  }

  /**
   * Admits an authenticated connection of {@code attempt}: it becomes the current one and the
   * previous one is closed, unless a newer attempt already reports. Returns the status byte to send.
   */
  int admit(MetricsConnection connection, int attempt) {
    MetricsConnection superseded;
    synchronized (sinks) {
      synchronized (state) {
        if (closed || !pending.remove(connection)) {
          return MetricsProtocol.STALE_ATTEMPT; // evicted or shut down meanwhile; it is being closed
        }
        if (attempt < newestAttempt) {
          LOG.warn("refused the metrics channel of stage attempt {} from {}: stage attempt {} already reports",
              attempt, connection.peer(), newestAttempt);
          return MetricsProtocol.STALE_ATTEMPT;
        }
        superseded = current;
        current = connection;
        newestAttempt = attempt;
      }
    }
    if (superseded != null) {
      LOG.info("metrics channel of stage attempt {} from {} supersedes the previous one from {}",
          attempt, connection.peer(), superseded.peer());
      superseded.end();
    }
    return MetricsProtocol.ACCEPTED;
  }

  /** Hands an event of {@code connection} to the sinks; false (and nothing delivered) once it is not current. */
  boolean deliver(MetricsConnection connection, MetricsEvent event) {
    synchronized (sinks) {
      synchronized (state) {
        if (current != connection) {
          return false;
        }
      }
      publish(event);
      return true;
    }
  }

  /** Called by a connection's thread as it ends, however it ended. */
  void ended(MetricsConnection connection) {
    synchronized (state) {
      pending.remove(connection);
      if (current == connection) {
        current = null;
        state.notifyAll();
      }
    }
  }

  /**
   * Waits until the current rank 0 has closed its channel and every event it sent has reached the
   * sinks, or {@code max} has passed; returns whether it drained. Call it once the ranks' tasks
   * have returned: rank 0 flushes and closes its channel before its task ends, so the events are
   * then on their way and only the reading remains. Without it, {@link #close()} can drop the
   * last events of a run that a loaded machine had not read yet.
   */
  public boolean awaitDrained(Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    synchronized (state) {
      while (current != null) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(state, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return true;
    }
  }

  /** Closes a connection that did not authenticate, with a WARN at most once per interval. */
  void refuseStranger(MetricsConnection connection, String reason) {
    connection.end();
    int alsoDropped;
    synchronized (state) {
      long now = System.nanoTime();
      if (lastStrangerWarnNanos != 0 && now - lastStrangerWarnNanos < STRANGER_WARN_INTERVAL_NANOS) {
        strangersSinceWarn++;
        LOG.debug("dropped a metrics connection from {}: {}", connection.peer(), reason);
        return;
      }
      lastStrangerWarnNanos = now;
      alsoDropped = strangersSinceWarn;
      strangersSinceWarn = 0;
    }
    LOG.warn("dropped a metrics connection from {}: {} ({} more dropped since the previous warning; "
        + "only rank 0 of this run, holding the run secret, may connect)", connection.peer(), reason, alsoDropped);
  }

  private boolean isClosed() {
    synchronized (state) {
      return closed;
    }
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops listening and closes every open connection; events still in flight are not delivered. */
  @Override
  public void close() {
    List<MetricsConnection> open;
    int unreported;
    synchronized (state) {
      closed = true;
      open = new ArrayList<>(pending);
      if (current != null) {
        open.add(current);
      }
      pending.clear();
      current = null;
      unreported = strangersSinceWarn;
      strangersSinceWarn = 0;
    }
    try {
      server.close();
    } catch (IOException ignored) {
      // already closed
    }
    open.forEach(MetricsConnection::end);
    if (unreported > 0) {
      LOG.warn("dropped {} more metrics connections that did not authenticate", unreported);
    }
    try {
      acceptor.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
