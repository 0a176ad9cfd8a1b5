// Builds a rank's RingLinks: listen, publish the address through a Rendezvous,
// connect to the right neighbour while accepting the left one, handshake both,
// then stop listening. Nothing listens after set-up, and only on the chosen
// interface while it does.
package org.ringtrain.sync;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
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
    SocketChannel outbox = null;
    CompletableFuture<SocketChannel> inbox = null;
    CompletableFuture<SocketChannel> outgoing = null;
    try {
      server = ServerSocketChannel.open();
      server.setOption(StandardSocketOptions.SO_RCVBUF, config.socketBufferBytes());
      server.bind(new InetSocketAddress(host, config.port()), 4);
      InetSocketAddress bound = (InetSocketAddress) server.getLocalAddress();
      InetSocketAddress advertised = bound.getAddress().isAnyLocalAddress()
          ? new InetSocketAddress(rendezvous.advertisedHost(), bound.getPort()) : bound;
      LOG.info("rank {}/{} listening on {} (advertised {}) for its left neighbour", rank, worldSize, bound, advertised);

      List<InetSocketAddress> addresses = rendezvous.exchange(advertised);
      if (addresses.size() != worldSize) {
        throw new RingException(null, RingException.Operation.RENDEZVOUS, "rendezvous returned "
            + addresses.size() + " addresses for a world of " + worldSize);
      }
      int left = (rank - 1 + worldSize) % worldSize;
      int right = (rank + 1) % worldSize;
      Peer leftPeer = new Peer(left, addresses.get(left));
      Peer rightPeer = new Peer(right, addresses.get(right));

      // Accept and connect at once, each on a short-lived thread: with two ranks each is the
      // other's left and right neighbour, so one after the other would deadlock. The first
      // failure of either ends the set-up at once.
      ServerSocketChannel listening = server;
      inbox = CompletableFuture.supplyAsync(() -> acceptLeft(listening, leftPeer), setupThread("accept"));
      outgoing = CompletableFuture.supplyAsync(() -> {
        try {
          return connectRight(rightPeer);
        } catch (RingException e) {
          throw new UncheckedRing(e);
        }
      }, setupThread("connect"));
      awaitBoth(inbox, outgoing, leftPeer);
      SocketChannel in = inbox.join();
      outbox = outgoing.join();
      LOG.info("rank {}/{} connected: left {} -> me -> right {}", rank, worldSize, leftPeer, rightPeer);
      return new RingLinks(rank, worldSize, leftPeer, in, rightPeer, outbox);
    } catch (RingException e) {
      // A set-up thread that is still running closes what it opens once it ends.
      if (inbox != null) {
        inbox.thenAccept(RingLinks::closeQuietly);
      }
      if (outgoing != null) {
        outgoing.thenAccept(RingLinks::closeQuietly);
      }
      throw e;
    } catch (IOException e) {
      RingLinks.closeQuietly(outbox);
      throw new RingException(null, RingException.Operation.RENDEZVOUS, "could not listen on " + host + ":"
          + config.port() + ": " + e.getMessage(), e);
    } finally {
      // Stop listening whatever happened; this also ends a still-running accept.
      RingLinks.closeQuietly(server);
    }
  }

  /** Waits until both set-up threads succeed, or throws the first failure. */
  private void awaitBoth(CompletableFuture<SocketChannel> in, CompletableFuture<SocketChannel> out, Peer leftPeer)
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

  /** Connects to the right neighbour, retrying refused connections until the connect timeout. */
  private SocketChannel connectRight(Peer right) throws RingException {
    long deadline = System.nanoTime() + config.connectTimeout().toNanos();
    IOException last = null;
    while (System.nanoTime() < deadline) {
      SocketChannel ch = null;
      try {
        ch = SocketChannel.open();
        configure(ch);
        ch.configureBlocking(false);
        if (!ch.connect(right.address())) {
          try (Selector selector = Selector.open()) {
            ch.register(selector, SelectionKey.OP_CONNECT);
            long leftMs = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            if (selector.select(leftMs) == 0) {
              throw new RingException(right, RingException.Operation.TIMEOUT, "connect did not complete within "
                  + config.connectTimeout().toMillis() + " ms");
            }
          }
          ch.finishConnect();
        }
        new Handshake(config, rank, worldSize).asConnector(ch, right);
        return ch;
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
      }
    }
    throw new RingException(right, RingException.Operation.CONNECT, "could not connect within "
        + config.connectTimeout().toMillis() + " ms" + (last == null ? "" : ": " + last.getMessage()), last);
  }

  /** Accepts connections until one completes the handshake as the left neighbour. */
  private SocketChannel acceptLeft(ServerSocketChannel server, Peer left) {
    long deadline = System.nanoTime() + config.connectTimeout().toNanos();
    try (Selector selector = Selector.open()) {
      server.configureBlocking(false);
      server.register(selector, SelectionKey.OP_ACCEPT);
      while (true) {
        long leftMs = (deadline - System.nanoTime()) / 1_000_000;
        if (leftMs <= 0) {
          throw new UncheckedRing(new RingException(left, RingException.Operation.ACCEPT,
              "the left neighbour did not connect within " + config.connectTimeout().toMillis() + " ms"));
        }
        if (selector.select(leftMs) == 0) {
          continue;
        }
        selector.selectedKeys().clear();
        SocketChannel ch = server.accept();
        if (ch == null) {
          continue;
        }
        try {
          configure(ch);
          ch.configureBlocking(false);
          new Handshake(config, rank, worldSize).asAcceptor(ch, left);
          return ch;
        } catch (Handshake.NotAPeerException e) {
          LOG.warn("rank {} ignored a connection from {}: {}", rank, ch.getRemoteAddress(), e.getMessage());
          RingLinks.closeQuietly(ch);
        } catch (RingException e) {
          RingLinks.closeQuietly(ch);
          throw new UncheckedRing(e);
        }
      }
    } catch (IOException e) {
      if (!server.isOpen()) {
        throw new UncheckedRing(new RingException(left, RingException.Operation.ACCEPT,
            "set-up was abandoned before the left neighbour connected", e));
      }
      throw new UncheckedRing(new RingException(left, RingException.Operation.ACCEPT, e.toString(), e));
    }
  }

  private void configure(SocketChannel ch) throws IOException {
    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
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
