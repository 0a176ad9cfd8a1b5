// Every setting of a ring, validated once. Defaults are named constants; the
// record is immutable and safe to ship to executors (it is Serializable).
package org.ringtrain.sync;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of one ring. Build with {@link #defaults(String, RingSecret)} and the {@code with...}
 * methods; the compact constructor rejects any invalid value with a message naming it.
 *
 * @param runId             identifies the training run; peers of another run are refused (1 to
 *                          {@value #MAX_RUN_ID_BYTES} bytes of UTF-8)
 * @param secret            the per-run handshake secret
 * @param bindHost          interface to listen on; null (default) means the host the rendezvous
 *                          advertises (the executor's address in Spark). "0.0.0.0" listens on all
 *                          interfaces and must be asked for explicitly.
 * @param port              listening port; 0 (default) picks a free one
 * @param connectTimeout    how long to keep trying to connect to and accept from the neighbours
 *                          (default {@link #DEFAULT_CONNECT_TIMEOUT})
 * @param handshakeTimeout  limit for one handshake, on either side (default
 *                          {@link #DEFAULT_HANDSHAKE_TIMEOUT}); an incoming connection that has not
 *                          authenticated within it is dropped and accepting goes on
 * @param ioTimeout         a collective fails when it makes no progress for this long (default
 *                          {@link #DEFAULT_IO_TIMEOUT}); it must cover the slowest rank's
 *                          compute between collectives, e.g. a checkpoint write on rank 0
 * @param segmentBytes      pipeline segment size in float32 bytes (default
 *                          {@value #DEFAULT_SEGMENT_BYTES}); a multiple of 8 within
 *                          [{@value #MIN_SEGMENT_BYTES}, {@value #MAX_SEGMENT_BYTES}]
 * @param socketBufferBytes kernel send/receive buffer request (default
 *                          {@value #DEFAULT_SOCKET_BUFFER_BYTES})
 * @param codec             wire encoding (default {@link WireCodec#FP32})
 * @param transport         how links are made (default {@link LinkTransport#AUTO}: a Unix domain
 *                          socket to neighbours on the same host, TCP to the others)
 * @param socketDir         absolute path of the directory under which {@code AUTO} creates each
 *                          rank's private (0700) socket directory; null (default) means
 *                          java.io.tmpdir, then /tmp if a socket path there would be too long
 * @param maxPendingHandshakes how many incoming connections may be handshaking at once during
 *                          set-up (default {@value #DEFAULT_MAX_PENDING_HANDSHAKES}, at most
 *                          {@value #MAX_PENDING_HANDSHAKES}); a connection beyond that is closed at
 *                          once, and a real neighbour turned away so retries until connectTimeout
 * @param protection        what protects frames after the handshake (default {@link RingProtection#NONE},
 *                          right for ranks on one host or a trusted network; use
 *                          {@link RingProtection#INTEGRITY} or {@link RingProtection#ENCRYPTION} across
 *                          hosts on a shared network); every rank must use the same
 */
public record RingConfig(
    String runId,
    RingSecret secret,
    String bindHost,
    int port,
    Duration connectTimeout,
    Duration handshakeTimeout,
    Duration ioTimeout,
    int segmentBytes,
    int socketBufferBytes,
    WireCodec codec,
    LinkTransport transport,
    String socketDir,
    int maxPendingHandshakes,
    RingProtection protection) implements Serializable {

  /** Longest accepted run id, in UTF-8 bytes. */
  public static final int MAX_RUN_ID_BYTES = 128;
  /** Default {@code connectTimeout}: 60 s (executors of one barrier stage start within seconds). */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(60);
  /** Default {@code handshakeTimeout}: 10 s. */
  public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
  /** Default {@code ioTimeout}: 5 minutes. */
  public static final Duration DEFAULT_IO_TIMEOUT = Duration.ofMinutes(5);
  /**
   * Default segment: 4 MiB. Measured against 1, 2 and 8 MiB on loopback (docs/benchmarks.md):
   * best at world sizes 2 and 4; smaller segments pay more per-frame overhead.
   */
  public static final int DEFAULT_SEGMENT_BYTES = 4 << 20;
  /** Smallest segment: 4 KiB. */
  public static final int MIN_SEGMENT_BYTES = 4 << 10;
  /** Largest segment: 64 MiB. */
  public static final int MAX_SEGMENT_BYTES = 64 << 20;
  /** Default kernel socket buffer request: 4 MiB. */
  public static final int DEFAULT_SOCKET_BUFFER_BYTES = 4 << 20;
  /**
   * Default {@code maxPendingHandshakes}: 32. A real neighbour handshakes in milliseconds, so the
   * slots are for strangers (port scanners, health checks, a flood); each holds one slot for at
   * most {@code handshakeTimeout}.
   */
  public static final int DEFAULT_MAX_PENDING_HANDSHAKES = 32;
  /** Largest {@code maxPendingHandshakes}: 1024 (each pending handshake holds a file descriptor). */
  public static final int MAX_PENDING_HANDSHAKES = 1024;

  public RingConfig {
    require(runId != null && !runId.isEmpty(), "runId must be non-empty, but found " + runId);
    int idBytes = runId.getBytes(StandardCharsets.UTF_8).length;
    require(idBytes <= MAX_RUN_ID_BYTES, "runId must be at most " + MAX_RUN_ID_BYTES
        + " UTF-8 bytes, but found " + idBytes);
    require(secret != null, "secret must be set; make one on the driver with RingSecret.generate()");
    require(port >= 0 && port <= 65535, "port must be in [0, 65535] (0 = any free port), but found " + port);
    requirePositive("connectTimeout", connectTimeout);
    requirePositive("handshakeTimeout", handshakeTimeout);
    requirePositive("ioTimeout", ioTimeout);
    require(segmentBytes >= MIN_SEGMENT_BYTES && segmentBytes <= MAX_SEGMENT_BYTES && segmentBytes % 8 == 0,
        "segmentBytes must be a multiple of 8 in [" + MIN_SEGMENT_BYTES + ", " + MAX_SEGMENT_BYTES
            + "], but found " + segmentBytes);
    require(socketBufferBytes >= 64 << 10, "socketBufferBytes must be at least 65536, but found "
        + socketBufferBytes);
    require(codec != null, "codec must be FP32 or BF16, but found null");
    require(transport != null, "transport must be AUTO or TCP, but found null");
    require(socketDir == null || isAbsolutePath(socketDir), "socketDir must be null (java.io.tmpdir) or an "
        + "absolute path, but found '" + socketDir + "'");
    require(maxPendingHandshakes >= 1 && maxPendingHandshakes <= MAX_PENDING_HANDSHAKES, "maxPendingHandshakes "
        + "must be in [1, " + MAX_PENDING_HANDSHAKES + "], but found " + maxPendingHandshakes);
    require(protection != null, "protection must be NONE, INTEGRITY or ENCRYPTION, but found null");
  }

  /** A config with every default, for the given run. */
  public static RingConfig defaults(String runId, RingSecret secret) {
    return new RingConfig(runId, secret, null, 0, DEFAULT_CONNECT_TIMEOUT, DEFAULT_HANDSHAKE_TIMEOUT,
        DEFAULT_IO_TIMEOUT, DEFAULT_SEGMENT_BYTES, DEFAULT_SOCKET_BUFFER_BYTES, WireCodec.FP32,
        LinkTransport.AUTO, null, DEFAULT_MAX_PENDING_HANDSHAKES, RingProtection.NONE);
  }

  /** This config listening on {@code host} (null: the rendezvous' advertised host). */
  public RingConfig withBindHost(String host) {
    return new RingConfig(runId, secret, host, port, connectTimeout, handshakeTimeout, ioTimeout,
        segmentBytes, socketBufferBytes, codec, transport, socketDir, maxPendingHandshakes, protection);
  }

  /** This config with the given connect, handshake and I/O timeouts. */
  public RingConfig withTimeouts(Duration connect, Duration handshake, Duration io) {
    return new RingConfig(runId, secret, bindHost, port, connect, handshake, io, segmentBytes,
        socketBufferBytes, codec, transport, socketDir, maxPendingHandshakes, protection);
  }

  /** This config with the given pipeline segment size in bytes. */
  public RingConfig withSegmentBytes(int bytes) {
    return new RingConfig(runId, secret, bindHost, port, connectTimeout, handshakeTimeout, ioTimeout,
        bytes, socketBufferBytes, codec, transport, socketDir, maxPendingHandshakes, protection);
  }

  /** This config with the given wire codec. */
  public RingConfig withCodec(WireCodec wireCodec) {
    return new RingConfig(runId, secret, bindHost, port, connectTimeout, handshakeTimeout, ioTimeout,
        segmentBytes, socketBufferBytes, wireCodec, transport, socketDir, maxPendingHandshakes, protection);
  }

  /** This config with the given link transport ({@link LinkTransport#AUTO} by default). */
  public RingConfig withTransport(LinkTransport linkTransport) {
    return new RingConfig(runId, secret, bindHost, port, connectTimeout, handshakeTimeout, ioTimeout,
        segmentBytes, socketBufferBytes, codec, linkTransport, socketDir, maxPendingHandshakes, protection);
  }

  /** This config creating its Unix socket directories under {@code dir} (null: java.io.tmpdir). */
  public RingConfig withSocketDir(String dir) {
    return new RingConfig(runId, secret, bindHost, port, connectTimeout, handshakeTimeout, ioTimeout,
        segmentBytes, socketBufferBytes, codec, transport, dir, maxPendingHandshakes, protection);
  }

  /** This config allowing {@code max} incoming handshakes at once during set-up (default 32). */
  public RingConfig withMaxPendingHandshakes(int max) {
    return new RingConfig(runId, secret, bindHost, port, connectTimeout, handshakeTimeout, ioTimeout,
        segmentBytes, socketBufferBytes, codec, transport, socketDir, max, protection);
  }

  /** This config protecting frames with {@code frameProtection} ({@link RingProtection#NONE} by default). */
  public RingConfig withProtection(RingProtection frameProtection) {
    return new RingConfig(runId, secret, bindHost, port, connectTimeout, handshakeTimeout, ioTimeout,
        segmentBytes, socketBufferBytes, codec, transport, socketDir, maxPendingHandshakes, frameProtection);
  }

  /** Float32 elements per pipeline segment. */
  public int segmentElements() {
    return segmentBytes / Float.BYTES;
  }

  private static boolean isAbsolutePath(String path) {
    try {
      return !path.isEmpty() && Path.of(path).isAbsolute();
    } catch (InvalidPathException e) {
      return false;
    }
  }

  private static void requirePositive(String name, Duration d) {
    require(d != null && !d.isNegative() && !d.isZero(), name + " must be a positive duration, but found " + d);
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("invalid ring config: " + message);
    }
  }
}
