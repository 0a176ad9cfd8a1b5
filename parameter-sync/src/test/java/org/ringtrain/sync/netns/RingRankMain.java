// One rank of a ring as its own process, for rings whose ranks live in different network
// namespaces (RankProcesses launches it through `ip netns exec`). It connects through a
// FileBoardRendezvous, reports which transport each link took, then checks all-reduce results,
// times all-reduces, or all-reduces until the ring fails. It reports on stdout, one line per fact
// ("key value ..."), for the launcher to read. Not a product entry point: Spark runs use RankTask.
package org.ringtrain.sync.netns;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32C;
import org.ringtrain.sync.ReduceOp;
import org.ringtrain.sync.RingCommunicator;
import org.ringtrain.sync.RingConfig;
import org.ringtrain.sync.RingException;
import org.ringtrain.sync.RingSecret;
import org.ringtrain.sync.WireCodec;

/**
 * {@code RingRankMain board=DIR rank=R world=N host=ADDR mode=check|bench|stall [counts=1,7,1001]
 * [bytes=B] [iters=I] [ioTimeoutSeconds=S] [codec=fp32|bf16]}. Exit status: 0 done, 1 a wrong
 * result, 3 the ring failed (the line "failed ..." says how), 2 anything else.
 */
public final class RingRankMain {
  private RingRankMain() {
  }

  /** Runs one rank; see the class doc for the arguments. */
  public static void main(String[] args) {
    Map<String, String> a = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq <= 0) {
        System.out.println("error expected key=value arguments, but found '" + arg + "'");
        System.exit(2);
      }
      a.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    int status;
    try {
      status = run(a);
    } catch (RingException e) {
      System.out.println("failed op=" + e.operation() + " message=" + e.getMessage().replace('\n', ' '));
      status = 3;
    } catch (Exception e) {
      System.out.println("error " + e);
      status = 2;
    }
    System.out.flush();
    System.exit(status);
  }

  private static int run(Map<String, String> a) throws Exception {
    Path board = Path.of(a.get("board"));
    int rank = Integer.parseInt(a.get("rank"));
    int world = Integer.parseInt(a.get("world"));
    String host = a.get("host");
    Duration io = Duration.ofSeconds(Long.parseLong(a.getOrDefault("ioTimeoutSeconds", "30")));
    RingSecret secret = RingSecret.fromBase64(Files.readString(board.resolve("secret"), StandardCharsets.US_ASCII)
        .trim());
    RingConfig config = RingConfig.defaults(board.getFileName().toString(), secret).withBindHost(host)
        .withTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(10), io)
        .withCodec(WireCodec.valueOf(a.getOrDefault("codec", "fp32").toUpperCase(java.util.Locale.ROOT)));
    FileBoardRendezvous rendezvous = new FileBoardRendezvous(board, rank, world, host, Duration.ofSeconds(30));
    try (RingCommunicator ring = RingCommunicator.connect(config, rendezvous)) {
      System.out.println("links left=" + transport(ring.leftPeer().isUnixSocket()) + " right="
          + transport(ring.rightPeer().isUnixSocket()) + " leftPeer=" + ring.leftPeer() + " rightPeer="
          + ring.rightPeer());
      switch (a.get("mode")) {
        case "check":
          return check(ring, a.getOrDefault("counts", "1,7,1001"));
        case "bench":
          bench(ring, Integer.parseInt(a.get("bytes")), Integer.parseInt(a.getOrDefault("iters", "5")));
          return 0;
        case "stall":
          stall(ring, Integer.parseInt(a.getOrDefault("bytes", Integer.toString(16 << 20))));
          return 0;
        default:
          System.out.println("error mode must be check, bench or stall, but found '" + a.get("mode") + "'");
          return 2;
      }
    }
  }

  private static String transport(boolean unix) {
    return unix ? "UNIX" : "TCP";
  }

  /** Rank r holds (r + 1)·(i mod 13 + 1) at index i: small integers, so the sum is exact. */
  private static int check(RingCommunicator ring, String counts) throws RingException {
    int n = ring.worldSize();
    for (String c : counts.split(",")) {
      int count = Integer.parseInt(c.trim());
      ByteBuffer bytes = ByteBuffer.allocateDirect(count * Float.BYTES).order(ByteOrder.nativeOrder());
      FloatBuffer values = bytes.asFloatBuffer();
      for (int i = 0; i < count; i++) {
        values.put(i, (ring.rank() + 1) * (i % 13 + 1));
      }
      ring.allReduce(bytes, ReduceOp.SUM);
      for (int i = 0; i < count; i++) {
        float expected = (i % 13 + 1) * n * (n + 1) / 2f;
        if (values.get(i) != expected) {
          System.out.println("mismatch count=" + count + " index=" + i + " expected=" + expected + " found="
              + values.get(i));
          return 1;
        }
      }
      CRC32C crc = new CRC32C();
      crc.update(bytes.duplicate().clear());
      System.out.println("checked count=" + count + " crc=" + Long.toHexString(crc.getValue()));
    }
    return 0;
  }

  /** One warm-up, then {@code iters} timed all-reduces of {@code bytes}; a barrier aligns each start. */
  private static void bench(RingCommunicator ring, int bytes, int iters) throws RingException {
    ByteBuffer buffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    int count = bytes / Float.BYTES;
    ring.allReduce(buffer, 0, count, ReduceOp.AVERAGE);
    for (int i = 0; i < iters; i++) {
      ring.barrier();
      long start = System.nanoTime();
      ring.allReduce(buffer, 0, count, ReduceOp.AVERAGE);
      System.out.println("bench bytes=" + bytes + " seconds=" + (System.nanoTime() - start) / 1e9);
    }
  }

  /** All-reduces until the ring fails (the test cuts a link); says when each one starts. */
  private static void stall(RingCommunicator ring, int bytes) throws RingException {
    ByteBuffer buffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    for (int i = 0; ; i++) {
      System.out.println("started " + i);
      ring.allReduce(buffer, 0, bytes / Float.BYTES, ReduceOp.AVERAGE);
    }
  }
}
