// Test fixture: a hand-driven rank 1 of a two-rank ring, over real sockets (TCP,
// or a Unix domain socket on this host). It speaks the real handshake
// (package-private Handshake) and then writes whatever bytes a test wants, to
// play dead, silent, outdated or malicious peers against a real
// RingCommunicator on rank 0.
package org.ringtrain.sync;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

final class RawPeer implements AutoCloseable {
  final ServerSocketChannel server;
  /** Where rank 0 connects to this peer: the TCP server, or the Unix one when there is one. */
  private final ServerSocketChannel unixServer;
  private final Path unixDir;
  final RingAddress address;
  /** Completed with rank 0's published address once rank 0 publishes it. */
  final CompletableFuture<RingAddress> rank0 = new CompletableFuture<>();
  SocketChannel inbound; // from rank 0 (we are its right neighbour)
  SocketChannel outbound; // to rank 0 (we are its left neighbour)

  /** A peer that listens on loopback TCP only. */
  RawPeer() throws IOException {
    this(false);
  }

  private RawPeer(boolean unix) throws IOException {
    server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
    InetSocketAddress tcp = (InetSocketAddress) server.getLocalAddress();
    if (unix) {
      unixDir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath(), "rawpeer-");
      Path socket = unixDir.resolve("peer.sock");
      unixServer = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
      address = new RingAddress(tcp, HostIdentity.token(), socket);
    } else {
      unixDir = null;
      unixServer = null;
      address = RingAddress.tcpOnly(tcp);
    }
  }

  /** A peer on this host that publishes a Unix domain socket, so rank 0 (AUTO) links to it over that. */
  static RawPeer overUnixSocket() throws IOException {
    return new RawPeer(true);
  }

  /** The rendezvous rank 0 uses: it learns this peer's address, this peer learns rank 0's. */
  Rendezvous rendezvousForRank0() {
    return rank0Of2(self -> {
      rank0.complete(self);
      return List.of(self, address);
    });
  }

  /** Rank 0 of a two-rank ring on loopback whose exchange is {@code exchange}. */
  static Rendezvous rank0Of2(java.util.function.Function<RingAddress, List<RingAddress>> exchange) {
    return new Rendezvous() {
      @Override
      public int rank() {
        return 0;
      }

      @Override
      public int worldSize() {
        return 2;
      }

      @Override
      public String advertisedHost() {
        return "127.0.0.1";
      }

      @Override
      public List<RingAddress> exchange(RingAddress self) {
        return exchange.apply(self);
      }
    };
  }

  /** Accepts rank 0's connection and answers its handshake as rank 1. */
  void acceptHandshake(RingConfig config) throws Exception {
    acceptHandshake(config, Handshake.PROTOCOL_VERSION);
  }

  /**
   * Accepts rank 0's connection and answers its handshake as rank 1 speaking {@code version},
   * driving the real acceptor side until it authenticates rank 0 or rejects it (thrown).
   */
  void acceptHandshake(RingConfig config, short version) throws Exception {
    inbound = (unixServer != null ? unixServer : server).accept();
    inbound.configureBlocking(false);
    Peer expected = new Peer(0, rank0.get(10, TimeUnit.SECONDS).tcp());
    long deadline = System.nanoTime() + config.handshakeTimeout().toNanos();
    AcceptorHandshake hs = new AcceptorHandshake(new Handshake(config, 1, 2, version), inbound, expected, deadline);
    try (Selector selector = Selector.open()) {
      SelectionKey key = inbound.register(selector, hs.interestOps());
      AcceptorHandshake.Outcome outcome;
      while ((outcome = hs.advance()) == AcceptorHandshake.Outcome.PENDING) {
        long leftMs = (deadline - System.nanoTime()) / 1_000_000;
        if (leftMs <= 0) {
          outcome = hs.expire();
          break;
        }
        key.interestOps(hs.interestOps());
        selector.select(leftMs);
        selector.selectedKeys().clear();
      }
      key.cancel();
      if (outcome == AcceptorHandshake.Outcome.REJECTED) {
        throw new RingException(expected, RingException.Operation.HANDSHAKE, hs.rejection());
      }
    }
  }

  /**
   * Connects to rank 0 (over its Unix socket when this peer has one and rank 0 published one) and
   * handshakes as rank 1 speaking {@code version}.
   */
  void connectHandshake(RingConfig config, short version) throws Exception {
    RingAddress target = rank0.get(10, TimeUnit.SECONDS);
    Peer peer = new Peer(0, target.tcp());
    if (unixServer != null && target.unixSocket() != null) {
      outbound = SocketChannel.open(UnixDomainSocketAddress.of(target.unixSocket()));
      peer = peer.overUnixSocket(target.unixSocket());
    } else {
      outbound = SocketChannel.open(target.tcp());
    }
    outbound.configureBlocking(false);
    new Handshake(config, 1, 2, version).asConnector(outbound, peer);
  }

  /**
   * Accepts rank 0's next {@code n} connections and closes each at once, unread, as a rank does
   * that has too many handshakes pending.
   */
  void turnAway(int n) throws IOException {
    for (int i = 0; i < n; i++) {
      RingLinks.closeQuietly((unixServer != null ? unixServer : server).accept());
    }
  }

  /** Stops listening, as a rank does whose set-up has ended. */
  void stopListening() {
    RingLinks.closeQuietly(server);
    RingLinks.closeQuietly(unixServer);
  }

  /** Opens a connection to rank 0 that speaks something else entirely, then closes it. */
  void sendJunkConnection() throws Exception {
    try (SocketChannel junk = SocketChannel.open(rank0.get(10, TimeUnit.SECONDS).tcp())) {
      junk.write(ByteBuffer.wrap("GET / HTTP/1.0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    }
  }

  /** Writes a frame header and {@code payloadBytes} bytes of payload (which may differ from what the header says). */
  void writeFrame(int opSeq, int frame, int declaredBytes, int payloadBytes) throws IOException {
    ByteBuffer header = FrameHeader.allocate();
    FrameHeader.write(header, opSeq, FrameHeader.KIND_ALL_REDUCE, frame, declaredBytes);
    outbound.configureBlocking(true);
    while (header.hasRemaining()) {
      outbound.write(header);
    }
    ByteBuffer payload = ByteBuffer.allocate(payloadBytes);
    while (payload.hasRemaining()) {
      outbound.write(payload);
    }
  }

  @Override
  public void close() {
    RingLinks.closeQuietly(inbound);
    RingLinks.closeQuietly(outbound);
    RingLinks.closeQuietly(server);
    RingLinks.closeQuietly(unixServer);
    if (unixDir != null) {
      try {
        Files.deleteIfExists(unixDir.resolve("peer.sock"));
        Files.deleteIfExists(unixDir);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }
}
