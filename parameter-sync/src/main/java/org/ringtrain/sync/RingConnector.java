// Builds a rank's RingLinks: listen on TCP (and, with LinkTransport.AUTO, on a
// Unix domain socket in a private directory for same-host neighbours), publish
// both through a Rendezvous, connect to the right neighbour while accepting the
// left one, handshake both, then stop listening and remove the socket file.
// The connecting rank picks the link's transport, the accepting rank takes
// whichever listener the handshake arrives on, so the two ends always agree.
// Nothing listens after set-up, and only on the chosen interface (or in a 0700
// directory) while it does.
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
import java.util.Iterator;
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

  private final RingConfig config;
  private final Rendezvous rendezvous;
  private final int rank;
  private final int worldSize;
  /** The accept thread's selector, woken when set-up ends so that the thread ends with it. */
  private volatile Selector acceptSelector;

  /** A connected, handshaken channel and the peer at its other end. */
  private record Link(SocketChannel channel, Peer peer) {
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
    CompletableFuture<Link> inbox = null;
    CompletableFuture<Link> outgoing = null;
    String doing = "listen on " + host + ":" + config.port();
    try {
      server = ServerSocketChannel.open();
      server.setOption(StandardSocketOptions.SO_RCVBUF, config.socketBufferBytes());
      server.bind(new InetSocketAddress(host, config.port()), 4);
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
      ServerSocketChannel listening = server;
      UnixSocketListener unixListening = unix;
      inbox = CompletableFuture.supplyAsync(() -> acceptLeft(listening, unixListening, leftPeer),
          setupThread("accept"));
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
      return new RingLinks(rank, worldSize, in.peer(), in.channel(), out.peer(), out.channel());
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
      Selector accepting = acceptSelector;
      if (accepting != null) {
        accepting.wakeup();
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
    try {
      CompletableFuture.anyOf(CompletableFuture.allOf(in, out), firstFailure).get(waitMs, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      // allOf failed: firstFailure holds the cause.
    } catch (TimeoutException e) {
      throw new RingException(leftPeer, RingException.Operation.TIMEOUT, "ring set-up did not finish within "
          + waitMs + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RingException(leftPeer, RingException.Operation.ACCEPT, "interrupted", e);
    }
    if (firstFailure.isDone()) {
      Throwable cause = firstFailure.join() instanceof Throwable t ? t : null;
      while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof UncheckedRing u) {
        throw u.ring;
      }
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
   * connections until the connect timeout. A handshake failure is final on either transport.
   */
  private Link connectRight(RingAddress self, int rightRank, RingAddress target) throws RingException {
    long deadline = System.nanoTime() + config.connectTimeout().toNanos();
    Peer right = new Peer(rightRank, target.tcp());
    if (self.sharesHostWith(target)) {
      Peer viaUnix = right.overUnixSocket(target.unixSocket());
      SocketChannel ch = null;
      try {
        ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        open(ch, UnixDomainSocketAddress.of(target.unixSocket()), viaUnix, deadline, false);
      } catch (RingException e) {
        RingLinks.closeQuietly(ch);
        throw e;
      } catch (IOException e) {
        // The rank listened there before it published the path, so this is no race to retry: the
        // file is not visible from here (another container, another user) or is gone.
        RingLinks.closeQuietly(ch);
        ch = null;
        LOG.info("rank {}: could not connect to {} ({}); using TCP instead", rank, viaUnix, e.getMessage());
      }
      if (ch != null) {
        try {
          new Handshake(config, rank, worldSize).asConnector(ch, viaUnix);
          return new Link(ch, viaUnix);
        } catch (RingException e) {
          RingLinks.closeQuietly(ch);
          throw e;
        }
      }
    }
    IOException last = null;
    while (System.nanoTime() < deadline) {
      SocketChannel ch = null;
      try {
        ch = SocketChannel.open();
        open(ch, right.address(), right, deadline, true);
        new Handshake(config, rank, worldSize).asConnector(ch, right);
        return new Link(ch, right);
      } catch (RingException e) {
        RingLinks.closeQuietly(ch);
        throw e;
      } catch (ConnectException e) {
        RingLinks.closeQuietly(ch);
        last = e;
        sleepQuietly(RETRY_SLEEP_MS);
      } catch (IOException e) {
        RingLinks.closeQuietly(ch);
        throw new RingException(right, RingException.Operation.CONNECT, e.toString(), e);
      } catch (UnresolvedAddressException e) {
        RingLinks.closeQuietly(ch);
        throw new RingException(right, RingException.Operation.CONNECT, "the published host name does not "
            + "resolve here; check the executors' DNS or set RingConfig.bindHost to an IP address", e);
      }
    }
    throw new RingException(right, RingException.Operation.CONNECT, "could not connect within "
        + config.connectTimeout().toMillis() + " ms" + (last == null ? "" : ": " + last.getMessage()), last);
  }

  /** Configures {@code ch} and connects it to {@code to} without blocking past {@code deadline}. */
  private void open(SocketChannel ch, SocketAddress to, Peer peer, long deadline, boolean tcp)
      throws IOException {
    configure(ch, tcp);
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

  /**
   * Accepts connections on both listeners until one completes the handshake as the left
   * neighbour; the listener it arrived on is the link's transport.
   */
  private Link acceptLeft(ServerSocketChannel tcp, UnixSocketListener unix, Peer left) {
    long deadline = System.nanoTime() + config.connectTimeout().toNanos();
    try (Selector selector = Selector.open()) {
      acceptSelector = selector;
      tcp.configureBlocking(false);
      tcp.register(selector, SelectionKey.OP_ACCEPT, left);
      if (unix != null) {
        unix.server.configureBlocking(false);
        unix.server.register(selector, SelectionKey.OP_ACCEPT, left.overUnixSocket(unix.socket));
      }
      while (true) {
        if (!tcp.isOpen()) {
          throw new IOException("listener closed");
        }
        long leftMs = (deadline - System.nanoTime()) / 1_000_000;
        if (leftMs <= 0) {
          throw new UncheckedRing(new RingException(left, RingException.Operation.ACCEPT,
              "the left neighbour did not connect within " + config.connectTimeout().toMillis() + " ms"));
        }
        if (selector.select(leftMs) == 0) {
          continue;
        }
        Iterator<SelectionKey> ready = selector.selectedKeys().iterator();
        while (ready.hasNext()) {
          SelectionKey key = ready.next();
          ready.remove();
          Link link = acceptOne((ServerSocketChannel) key.channel(), (Peer) key.attachment());
          if (link != null) {
            return link;
          }
        }
      }
    } catch (IOException e) {
      if (!tcp.isOpen()) {
        throw new UncheckedRing(new RingException(left, RingException.Operation.ACCEPT,
            "set-up was abandoned before the left neighbour connected", e));
      }
      throw new UncheckedRing(new RingException(left, RingException.Operation.ACCEPT, e.toString(), e));
    }
  }

  /** Accepts one pending connection and handshakes it; null when there was none or it was no peer. */
  private Link acceptOne(ServerSocketChannel server, Peer left) throws IOException {
    SocketChannel ch = server.accept();
    if (ch == null) {
      return null;
    }
    try {
      configure(ch, !left.isUnixSocket());
      ch.configureBlocking(false);
      new Handshake(config, rank, worldSize).asAcceptor(ch, left);
      return new Link(ch, left);
    } catch (Handshake.NotAPeerException e) {
      LOG.warn("rank {} ignored a connection from {}: {}", rank,
          left.isUnixSocket() ? "unix socket " + left.unixSocket() : ch.getRemoteAddress(), e.getMessage());
      RingLinks.closeQuietly(ch);
      return null;
    } catch (RingException e) {
      RingLinks.closeQuietly(ch);
      throw new UncheckedRing(e);
    } catch (IOException e) {
      RingLinks.closeQuietly(ch);
      throw new UncheckedRing(new RingException(left, RingException.Operation.ACCEPT, e.toString(), e));
    }
  }

  /** Socket options: TCP_NODELAY and keep-alive exist for TCP only; buffer sizes for both. */
  private void configure(SocketChannel ch, boolean tcp) throws IOException {
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
