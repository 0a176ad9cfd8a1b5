// Builds a rank's RingLinks: listen on TCP (and, with LinkTransport.AUTO, on a
// Unix domain socket in a private directory for same-host neighbours), publish
// both through a Rendezvous, connect to the right neighbour while accepting the
// left one (LeftNeighbourAcceptor), handshake both, then stop listening and
// remove the socket file. The connecting rank picks the link's transport, the
// accepting rank takes whichever listener the handshake arrives on, so the two
// ends always agree. Nothing listens after set-up, and only on the chosen
// interface (or in a 0700 directory) while it does.
//
// Why over 300 lines: set-up is one protocol (listen, publish, connect, accept,
// clean up) whose failure paths must name the peer and operation in each step;
// split, the steps would have to share half-built state.
package org.ringtrain.sync;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Connection set-up of one rank. */
final class RingConnector {
  private static final Logger LOG = LoggerFactory.getLogger(RingConnector.class);
  private static final long RETRY_SLEEP_MS = 100;
  /**
   * Listen backlog. The accept thread takes every waiting connection at once, so this only has to
   * absorb a burst; a full TCP backlog drops SYNs and costs a connecting rank a 1 s retransmit.
   */
  static final int ACCEPT_BACKLOG = 64;

  private final RingConfig config;
  private final Rendezvous rendezvous;
  private final int rank;
  private final int worldSize;

  /** A connected, handshaken channel and the peer at its other end. */
  record Link(SocketChannel channel, Peer peer, byte[] key) {
  }

  RingConnector(RingConfig config, Rendezvous rendezvous) {
    this.config = config;
    this.rendezvous = rendezvous;
    this.rank = rendezvous.rank();
    this.worldSize = rendezvous.worldSize();
  }

  /** Connects both neighbours. Call only for worldSize > 1. */
  RingLinks connect() throws RingException {
    String host = config.bindHost() != null ? config.bindHost() : rendezvous.advertisedHost();
    ServerSocketChannel server = null;
    UnixSocketListener unix = null;
    LeftNeighbourAcceptor acceptor = null;
    CompletableFuture<Link> inbox = null;
    CompletableFuture<Link> outgoing = null;
    String doing = "listen on " + host + ":" + config.port();
    try {
      server = ServerSocketChannel.open();
      server.setOption(StandardSocketOptions.SO_RCVBUF, config.socketBufferBytes());
      server.bind(new InetSocketAddress(host, config.port()), ACCEPT_BACKLOG);
      InetSocketAddress bound = (InetSocketAddress) server.getLocalAddress();
      InetSocketAddress advertised = bound.getAddress().isAnyLocalAddress()
          ? new InetSocketAddress(rendezvous.advertisedHost(), bound.getPort()) : bound;
      String hostId = config.transport() == LinkTransport.AUTO ? HostIdentity.token() : null;
      if (hostId != null) {
        unix = UnixSocketListener.open(config, rank);
      }
      RingAddress self = unix == null ? RingAddress.tcpOnly(advertised)
          : new RingAddress(advertised, hostId, unix.socket);
      LOG.info("rank {}/{} listening on {}{} for its left neighbour; publishing {}", rank, worldSize, bound,
          unix == null ? "" : " and " + unix.socket, self.format());

      doing = "exchange addresses";
      List<RingAddress> addresses = rendezvous.exchange(self);
      if (addresses.size() != worldSize) {
        throw new RingException(null, RingException.Operation.RENDEZVOUS, "rendezvous returned "
            + addresses.size() + " addresses for a world of " + worldSize);
      }
      int left = (rank - 1 + worldSize) % worldSize;
      int right = (rank + 1) % worldSize;
      Peer leftPeer = new Peer(left, addresses.get(left).tcp());
      RingAddress rightAddress = addresses.get(right);

      // Accept and connect at once, each on a short-lived thread: with two ranks each is the
      // other's left and right neighbour, so one after the other would deadlock. The first
      // failure of either ends the set-up at once.
      doing = "start accepting";
      LeftNeighbourAcceptor accepting = new LeftNeighbourAcceptor(config, rank, worldSize, leftPeer, server, unix);
      acceptor = accepting;
      long acceptDeadline = System.nanoTime() + config.connectTimeout().toNanos();
      inbox = CompletableFuture.supplyAsync(() -> {
        try {
          return accepting.accept(acceptDeadline);
        } catch (RingException e) {
          throw new UncheckedRing(e);
        }
      }, setupThread("accept"));
      outgoing = CompletableFuture.supplyAsync(() -> {
        try {
          return connectRight(self, right, rightAddress);
        } catch (RingException e) {
          throw new UncheckedRing(e);
        }
      }, setupThread("connect"));
      awaitBoth(inbox, outgoing, leftPeer);
      Link in = inbox.join();
      Link out = outgoing.join();
      LOG.info("rank {}/{} connected: left {} -> me -> right {}", rank, worldSize, in.peer(), out.peer());
      return new RingLinks(rank, worldSize, in.peer(), in.channel(), out.peer(), out.channel(), in.key(), out.key());
    } catch (RingException e) {
      // A set-up thread that is still running closes what it opens once it ends.
      if (inbox != null) {
        inbox.thenAccept(link -> RingLinks.closeQuietly(link.channel()));
      }
      if (outgoing != null) {
        outgoing.thenAccept(link -> RingLinks.closeQuietly(link.channel()));
      }
      throw e;
    } catch (IOException e) {
      throw new RingException(null, RingException.Operation.RENDEZVOUS, "could not " + doing + ": "
          + e.getMessage(), e);
    } finally {
      // Stop listening whatever happened; this also ends a still-running accept.
      RingLinks.closeQuietly(server);
      if (unix != null) {
        unix.close();
      }
      if (acceptor != null) {
        acceptor.abandon();
      }
    }
  }

  /** Waits until both set-up threads succeed, or throws the first failure. */
  private void awaitBoth(CompletableFuture<Link> in, CompletableFuture<Link> out, Peer leftPeer)
      throws RingException {
    CompletableFuture<Object> firstFailure = new CompletableFuture<>();
    in.whenComplete((c, e) -> {
      if (e != null) {
        firstFailure.complete(e);
      }
    });
    out.whenComplete((c, e) -> {
      if (e != null) {
        firstFailure.complete(e);
      }
    });
    long waitMs = config.connectTimeout().toMillis() + config.handshakeTimeout().toMillis() + 1000;
    Throwable cause;
    try {
      Object first = CompletableFuture.anyOf(CompletableFuture.allOf(in, out), firstFailure)
          .get(waitMs, TimeUnit.MILLISECONDS);
      cause = first instanceof Throwable t ? t : null; // allOf completes with null
    } catch (ExecutionException e) {
      // allOf failed before firstFailure heard of it (dependents run in no fixed order).
      cause = e.getCause();
    } catch (TimeoutException e) {
      throw new RingException(leftPeer, RingException.Operation.TIMEOUT, "ring set-up did not finish within "
          + waitMs + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RingException(leftPeer, RingException.Operation.ACCEPT, "interrupted", e);
    }
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof UncheckedRing u) {
      throw u.ring;
    }
    if (cause != null) {
      throw new RingException(leftPeer, RingException.Operation.CONNECT, String.valueOf(cause), cause);
    }
  }

  private java.util.concurrent.Executor setupThread(String what) {
    return runnable -> {
      Thread t = new Thread(runnable, "ringtrain-ring-" + what + "-" + rank);
      t.setDaemon(true);
      t.start();
    };
  }

  /**
   * Connects to the right neighbour: over its Unix socket when it shares this rank's host (falling
   * back to TCP, logged, when that socket cannot be reached), otherwise over TCP, retrying refused
   * connections until the connect timeout. A neighbour that closes a connection before answering
   * the HELLO had too many handshakes pending, so that is retried as well, on the same transport;
   * if it then refuses the connection, it has ended its own set-up. Any other handshake failure is
   * final on either transport.
   */
  private Link connectRight(RingAddress self, int rightRank, RingAddress target) throws RingException {
    long deadline = System.nanoTime() + config.connectTimeout().toNanos();
    Peer right = new Peer(rightRank, target.tcp());
    Peer viaUnix = self.sharesHostWith(target) ? right.overUnixSocket(target.unixSocket()) : null;
    IOException refused = null;
    Handshake.TurnedAwayException turnedAway = null;
    int turnedAwayCount = 0;
    while (System.nanoTime() < deadline) {
      Peer peer = viaUnix != null ? viaUnix : right;
      SocketChannel ch = null;
      try {
        if (viaUnix != null) {
          ch = SocketChannel.open(StandardProtocolFamily.UNIX);
          open(ch, UnixDomainSocketAddress.of(target.unixSocket()), viaUnix, deadline, false);
        } else {
          ch = SocketChannel.open();
          open(ch, right.address(), right, deadline, true);
        }
      } catch (RingException e) {
        RingLinks.closeQuietly(ch);
        throw e;
      } catch (IOException e) {
        RingLinks.closeQuietly(ch);
        if (turnedAway != null && (e instanceof ConnectException
            || viaUnix != null && !Files.exists(target.unixSocket()))) {
          throw endedItsSetUp(peer, turnedAway);
        }
        if (viaUnix != null && turnedAway == null) {
          // The rank listened there before it published the path, so this is no race to retry: the
          // file is not visible from here (another container, another user) or is gone.
          LOG.info("rank {}: could not connect to {} ({}); using TCP instead", rank, viaUnix, e.getMessage());
          viaUnix = null;
          continue;
        }
        if (viaUnix == null && !(e instanceof ConnectException)) {
          throw new RingException(right, RingException.Operation.CONNECT, e.toString(), e);
        }
        // Refused over TCP, or a full Unix backlog after the neighbour turned this rank away.
        refused = e;
        sleepQuietly(RETRY_SLEEP_MS);
        continue;
      } catch (UnresolvedAddressException e) {
        RingLinks.closeQuietly(ch);
        throw new RingException(right, RingException.Operation.CONNECT, "the published host name does not "
            + "resolve here; check the executors' DNS or set RingConfig.bindHost to an IP address", e);
      }
      try {
        byte[] key = new Handshake(config, rank, worldSize).asConnector(ch, peer);
        return new Link(ch, peer, key);
      } catch (Handshake.TurnedAwayException e) {
        RingLinks.closeQuietly(ch);
        turnedAway = e;
        turnedAwayCount++;
        LOG.debug("rank {}: {} closed the connection before its HELLO ({}); connecting again", rank, peer,
            e.getMessage());
        sleepQuietly(RETRY_SLEEP_MS);
      } catch (RingException e) {
        RingLinks.closeQuietly(ch);
        throw e;
      }
    }
    if (turnedAway != null) {
      throw new RingException(turnedAway.failure().peer(), RingException.Operation.HANDSHAKE, "peer closed each "
          + "of this rank's " + turnedAwayCount + " connections unanswered until the connect timeout ("
          + config.connectTimeout().toMillis() + " ms): all its handshake slots (RingConfig.maxPendingHandshakes) "
          + "stayed taken by other connections; is something flooding its port?", turnedAway.failure());
    }
    throw new RingException(right, RingException.Operation.CONNECT, "could not connect within "
        + config.connectTimeout().toMillis() + " ms" + (refused == null ? "" : ": " + refused.getMessage()), refused);
  }

  /**
   * The neighbour turned a connection away and now refuses new ones: it stopped listening, so its
   * set-up has ended without this rank, most likely because it refused this rank's handshake.
   */
  private static RingException endedItsSetUp(Peer peer, Handshake.TurnedAwayException turnedAway) {
    return new RingException(peer, RingException.Operation.HANDSHAKE, "peer closed this rank's connection "
        + "before answering its HELLO and then stopped listening: it ended its own set-up, most likely because "
        + "the two ranks hold different run secrets, run ids, ringProtection settings or ringtrain versions (that "
        + "rank's own error says which)", turnedAway.failure());
  }

  /** Configures {@code ch} and connects it to {@code to} without blocking past {@code deadline}. */
  private void open(SocketChannel ch, SocketAddress to, Peer peer, long deadline, boolean tcp)
      throws IOException {
    configure(ch, tcp, config);
    ch.configureBlocking(false);
    if (!ch.connect(to)) {
      try (Selector selector = Selector.open()) {
        ch.register(selector, SelectionKey.OP_CONNECT);
        long leftMs = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
        if (selector.select(leftMs) == 0) {
          throw new RingException(peer, RingException.Operation.TIMEOUT, "connect did not complete within "
              + config.connectTimeout().toMillis() + " ms");
        }
      }
      ch.finishConnect();
    }
  }

  /** Socket options: TCP_NODELAY and keep-alive exist for TCP only; buffer sizes for both. */
  static void configure(SocketChannel ch, boolean tcp, RingConfig config) throws IOException {
    if (tcp) {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
    }
    ch.setOption(StandardSocketOptions.SO_SNDBUF, config.socketBufferBytes());
    ch.setOption(StandardSocketOptions.SO_RCVBUF, config.socketBufferBytes());
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Carries a RingException out of the accept thread's Supplier. */
  private static final class UncheckedRing extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient RingException ring;

    UncheckedRing(RingException ring) {
      super(ring.getMessage(), ring);
      this.ring = ring;
    }
  }
}
