// Accepts a rank's left neighbour: the set-up's accept thread, one selector
// over both listeners (TCP, and the Unix socket under LinkTransport.AUTO) and
// every incoming handshake under way. Anyone who can reach a listener can
// connect, so a connection counts for nothing until it authenticates: each
// handshakes under its own deadline (RingConfig.handshakeTimeout), all at
// once, and one that fails in any way is dropped, logged (DroppedConnections)
// and forgotten, while accepting goes on until the left neighbour has
// authenticated or the set-up deadline passes. At most
// RingConfig.maxPendingHandshakes handshakes run at once; a connection beyond
// that is closed unread, and the real neighbour connects again (RingConnector).
// Only a broken listener, or a failure after the neighbour authenticated, ends
// the set-up early. This class does not connect to the right neighbour.
package org.ringtrain.sync;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** The accepting half of one rank's set-up; {@link #accept(long)} runs on the accept thread. */
final class LeftNeighbourAcceptor {
  private final RingConfig config;
  private final Handshake handshake;
  private final Peer left;
  private final ServerSocketChannel tcp;
  private final UnixSocketListener unix;
  private final Selector selector;
  private final List<AcceptorHandshake> pending = new ArrayList<>();
  private final DroppedConnections dropped;
  private volatile boolean abandoned;

  /** Accepts on {@code tcp} and, if not null, {@code unix}, for {@code left}; opens the selector. */
  LeftNeighbourAcceptor(RingConfig config, int rank, int worldSize, Peer left, ServerSocketChannel tcp,
      UnixSocketListener unix) throws IOException {
    this.config = config;
    this.handshake = new Handshake(config, rank, worldSize);
    this.left = left;
    this.tcp = tcp;
    this.unix = unix;
    this.dropped = new DroppedConnections(rank);
    this.selector = Selector.open();
  }

  /**
   * Accepts until a connection authenticates as the left neighbour, and returns it, non-blocking,
   * with the peer as reached (over the Unix socket if it came in there). Closes every other
   * connection it accepted.
   *
   * @throws RingException when {@code deadlineNanos} passes first (the message counts the
   *                       connections dropped meanwhile), the set-up was abandoned, a listener
   *                       failed, or the verdict could not be sent to the authenticated neighbour
   */
  RingConnector.Link accept(long deadlineNanos) throws RingException {
    try {
      tcp.configureBlocking(false);
      tcp.register(selector, SelectionKey.OP_ACCEPT, left);
      if (unix != null) {
        unix.server.configureBlocking(false);
        unix.server.register(selector, SelectionKey.OP_ACCEPT, left.overUnixSocket(unix.socket));
      }
      while (true) {
        if (abandoned || !tcp.isOpen()) {
          throw new RingException(left, RingException.Operation.ACCEPT,
              "set-up was abandoned before the left neighbour connected" + dropped.summary());
        }
        long now = System.nanoTime();
        if (now - deadlineNanos >= 0) {
          throw new RingException(left, RingException.Operation.ACCEPT, "the left neighbour did not connect "
              + "and authenticate within " + config.connectTimeout().toMillis() + " ms" + dropped.summary());
        }
        long wake = expireOverdue(now, deadlineNanos);
        selector.select(Math.max(1, (wake - now) / 1_000_000));
        Iterator<SelectionKey> ready = selector.selectedKeys().iterator();
        while (ready.hasNext()) {
          SelectionKey key = ready.next();
          ready.remove();
          RingConnector.Link link = key.attachment() instanceof AcceptorHandshake hs ? advance(key, hs)
              : acceptAll((ServerSocketChannel) key.channel(), (Peer) key.attachment());
          if (link != null) {
            return link;
          }
        }
      }
    } catch (RingException e) {
      throw e;
    } catch (IOException e) {
      if (abandoned || !tcp.isOpen()) {
        throw new RingException(left, RingException.Operation.ACCEPT,
            "set-up was abandoned before the left neighbour connected" + dropped.summary(), e);
      }
      throw new RingException(left, RingException.Operation.ACCEPT, e.toString(), e);
    } finally {
      for (AcceptorHandshake hs : pending) {
        RingLinks.closeQuietly(hs.channel());
      }
      pending.clear();
      RingLinks.closeQuietly(selector);
      dropped.finish();
    }
  }

  /**
   * Wakes {@link #accept(long)} from another thread once the set-up has ended without it (the
   * other half failed, or it is being torn down), so that the accept thread ends too.
   */
  void abandon() {
    abandoned = true;
    selector.wakeup();
  }

  /** Drops the handshakes past their deadline; returns when the loop must look again. */
  private long expireOverdue(long now, long setupDeadline) {
    long wake = setupDeadline;
    Iterator<AcceptorHandshake> it = pending.iterator();
    while (it.hasNext()) {
      AcceptorHandshake hs = it.next();
      if (now - hs.deadline() >= 0) {
        it.remove();
        hs.expire();
        drop(hs);
      } else if (hs.deadline() - wake < 0) {
        wake = hs.deadline();
      }
    }
    return wake;
  }

  /** Accepts every connection waiting on {@code server}; each starts its handshake, or is turned away. */
  private RingConnector.Link acceptAll(ServerSocketChannel server, Peer expected) throws IOException {
    SocketChannel ch;
    while ((ch = server.accept()) != null) {
      if (pending.size() >= config.maxPendingHandshakes()) {
        dropped.turnedAway(describe(ch, expected), pending.size());
        RingLinks.closeQuietly(ch);
        continue;
      }
      AcceptorHandshake hs = new AcceptorHandshake(handshake, ch, expected,
          System.nanoTime() + config.handshakeTimeout().toNanos());
      try {
        RingConnector.configure(ch, !expected.isUnixSocket(), config);
        ch.configureBlocking(false);
        pending.add(hs);
        // Its HELLO may be here already; advancing now saves a trip through select.
        RingConnector.Link link = advance(ch.register(selector, SelectionKey.OP_READ, hs), hs);
        if (link != null) {
          return link;
        }
      } catch (RingException e) {
        throw e; // from the neighbour, after it authenticated
      } catch (IOException e) {
        pending.remove(hs);
        dropped.dropped(describe(ch, expected), "could not set up the connection: " + e.getMessage());
        RingLinks.closeQuietly(ch);
      }
    }
    return null;
  }

  /** Moves one handshake on; returns the link once it authenticated. */
  private RingConnector.Link advance(SelectionKey key, AcceptorHandshake hs) throws RingException {
    switch (hs.advance()) {
      case AUTHENTICATED -> {
        pending.remove(hs);
        key.cancel();
        return new RingConnector.Link(hs.channel(), hs.expected(), hs.linkKey());
      }
      case REJECTED -> {
        pending.remove(hs);
        drop(hs);
        return null;
      }
      default -> {
        key.interestOps(hs.interestOps());
        return null;
      }
    }
  }

  private void drop(AcceptorHandshake hs) {
    dropped.dropped(describe(hs.channel(), hs.expected()), hs.rejection());
    RingLinks.closeQuietly(hs.channel());
  }

  /** Where a connection came from, for the log: its TCP address, or the Unix socket it came in on. */
  private static String describe(SocketChannel ch, Peer expected) {
    if (expected.isUnixSocket()) {
      return "unix socket " + expected.unixSocket();
    }
    try {
      return String.valueOf(ch.getRemoteAddress());
    } catch (IOException e) {
      return "an unknown address (" + e.getMessage() + ")";
    }
  }
}
