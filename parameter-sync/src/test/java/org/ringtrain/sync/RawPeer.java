// Test fixture: a hand-driven rank 1 of a two-rank ring, over real sockets. It
// speaks the real handshake (package-private Handshake) and then writes
// whatever bytes a test wants, to play dead, silent, outdated or malicious
// peers against a real RingCommunicator on rank 0.
package org.ringtrain.sync;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

final class RawPeer implements AutoCloseable {
  final ServerSocketChannel server;
  final InetSocketAddress address;
  /** Completed with rank 0's listening address once rank 0 publishes it. */
  final CompletableFuture<InetSocketAddress> rank0 = new CompletableFuture<>();
  SocketChannel inbound; // from rank 0 (we are its right neighbour)
  SocketChannel outbound; // to rank 0 (we are its left neighbour)

  RawPeer() throws IOException {
    server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
    address = (InetSocketAddress) server.getLocalAddress();
  }

  /** The rendezvous rank 0 uses: it learns this peer's address, this peer learns rank 0's. */
  Rendezvous rendezvousForRank0() {
    return rank0Of2(self -> {
      rank0.complete(self);
      return List.of(self, address);
    });
  }

  /** Rank 0 of a two-rank ring on loopback whose exchange is {@code exchange}. */
  static Rendezvous rank0Of2(java.util.function.Function<InetSocketAddress, List<InetSocketAddress>> exchange) {
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
      public List<InetSocketAddress> exchange(InetSocketAddress self) {
        return exchange.apply(self);
      }
    };
  }

  /** Accepts rank 0's connection and answers its handshake as rank 1. */
  void acceptHandshake(RingConfig config) throws Exception {
    inbound = server.accept();
    inbound.configureBlocking(false);
    new Handshake(config, 1, 2).asAcceptor(inbound, new Peer(0, rank0.get(10, TimeUnit.SECONDS)));
  }

  /** Connects to rank 0 and handshakes as rank 1 speaking {@code version}. */
  void connectHandshake(RingConfig config, short version) throws Exception {
    InetSocketAddress target = rank0.get(10, TimeUnit.SECONDS);
    outbound = SocketChannel.open(target);
    outbound.configureBlocking(false);
    new Handshake(config, 1, 2, version).asConnector(outbound, new Peer(0, target));
  }

  /** Opens a connection to rank 0 that speaks something else entirely, then closes it. */
  void sendJunkConnection() throws Exception {
    try (SocketChannel junk = SocketChannel.open(rank0.get(10, TimeUnit.SECONDS))) {
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
  }
}
