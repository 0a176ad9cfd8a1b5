// The public face of the ring: one per rank, made by connect(), used for every
// collective of a training run, closed at the end. All collectives run on one
// dedicated thread in submission order, so synchronous calls and asynchronous
// bucket submissions interleave exactly as submitted, identically on every rank.
// It is not a general message bus and not thread-safe for concurrent close and
// reuse: one owner per rank.
//
// Why over 300 lines: it is the module's whole public API (connect, every
// collective, sync and async, the all-reduce's two halves, close) with its Javadoc; the algorithms themselves
// live in their own classes (RingAllReduce, RingPipeline).
package org.ringtrain.sync;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rank's endpoint of the ring: in-place all-reduce (sum or average), broadcast and barrier over
 * float32 regions given as direct {@link ByteBuffer}s (e.g. the driver's view of a model's flat
 * gradient buffer, {@code INDArray.data().asNio()}) or {@code float[]}, plus
 * {@link #allReduceAsync asynchronous buckets} that complete in submission order, and the two halves
 * of the all-reduce on their own ({@link #reduceScatterAsync}, {@link #allGatherAsync}) for a
 * sharded optimizer step in between.
 *
 * <p>Every rank must call the same collectives with the same lengths in the same order; a rank
 * that does not is detected by the frame headers and fails with a {@link RingException}. After
 * any RingException the communicator is broken: later calls fail at once, and its sockets are
 * closed so that the neighbours fail fast too.
 */
public final class RingCommunicator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RingCommunicator.class);

  private final RingConfig config;
  private final int rank;
  private final int worldSize;
  private final RingTransport transport; // null when worldSize == 1
  private final LinkedBlockingQueue<Task> queue = new LinkedBlockingQueue<>();
  private final Thread worker;
  private volatile RingException failure;
  private volatile boolean closed;
  private ByteBuffer scratch; // float[] staging and barrier token; touched only by the worker

  /** One queued collective. */
  private record Task(String name, Collective body, CompletableFuture<Void> done) {
  }

  @FunctionalInterface
  private interface Collective {
    void run() throws RingException;
  }

  private RingCommunicator(RingConfig config, int rank, int worldSize, RingTransport transport) {
    this.config = config;
    this.rank = rank;
    this.worldSize = worldSize;
    this.transport = transport;
    this.worker = new Thread(this::serve, "ringtrain-ring-" + rank);
    this.worker.setDaemon(true);
    this.worker.start();
  }

  /**
   * Joins the ring: listens, exchanges addresses through {@code rendezvous}, connects and
   * authenticates both neighbours. Blocks until done or until the connect timeout.
   *
   * @throws RingException naming the peer when a neighbour cannot be reached or fails the handshake
   */
  public static RingCommunicator connect(RingConfig config, Rendezvous rendezvous) throws RingException {
    if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
      throw new IllegalStateException("the ring sends float32 in native order and needs a little-endian "
          + "platform, but this one is " + ByteOrder.nativeOrder());
    }
    int rank = rendezvous.rank();
    int worldSize = rendezvous.worldSize();
    if (worldSize == 1) {
      return new RingCommunicator(config, rank, worldSize, null);
    }
    RingLinks links = new RingConnector(config, rendezvous).connect();
    try {
      return new RingCommunicator(config, rank, worldSize, new RingTransport(config, links));
    } catch (java.io.IOException e) {
      links.close();
      throw new RingException(null, RingException.Operation.CONNECT, "could not set up the selector: " + e, e);
    }
  }

  /** This rank. */
  public int rank() {
    return rank;
  }

  /** Ranks in the ring. */
  public int worldSize() {
    return worldSize;
  }

  /** The config this ring runs with. */
  public RingConfig config() {
    return config;
  }

  /**
   * The left neighbour, which sends to this rank; {@link Peer#isUnixSocket()} tells whether the
   * link runs over a Unix domain socket or TCP. Null for a world of one.
   */
  public Peer leftPeer() {
    return transport == null ? null : transport.links.leftPeer;
  }

  /** The right neighbour, which this rank sends to (see {@link #leftPeer()}). Null for a world of one. */
  public Peer rightPeer() {
    return transport == null ? null : transport.links.rightPeer;
  }

  /** In-place all-reduce of the whole buffer ({@code capacity / 4} floats). */
  public void allReduce(ByteBuffer buffer, ReduceOp op) throws RingException {
    allReduce(buffer, 0, buffer.capacity() / Float.BYTES, op);
  }

  /**
   * In-place all-reduce of {@code count} floats starting at float index {@code offset} of a direct
   * buffer (the buffer's position and limit are ignored and left unchanged).
   */
  public void allReduce(ByteBuffer buffer, int offset, int count, ReduceOp op) throws RingException {
    await(allReduceAsync(buffer, offset, count, op));
  }

  /**
   * In-place all-reduce of a float array (copied through a direct staging buffer). Always exact
   * float32, whatever the config's {@link WireCodec}: arrays carry small control values (losses,
   * counts, the 16-bit limbs of hashes that ranks compare), which bf16's 8-bit mantissa would round.
   */
  public void allReduce(float[] values, ReduceOp op) throws RingException {
    requireOp(op);
    await(submit("allreduce", () -> {
      ByteBuffer buf = staging(values.length);
      buf.asFloatBuffer().put(values);
      reduce(buf, 0, values.length, op, WireCodec.FP32); // control values: exact whatever the codec
      buf.asFloatBuffer().get(values);
    }));
  }

  /**
   * Queues an in-place all-reduce of a bucket: {@code count} floats at float index {@code offset}.
   * Buckets run one at a time in submission order and their futures complete in that order; the
   * caller must not touch the bucket's floats until its future completes. The future fails with a
   * {@link RingException} when the ring fails.
   */
  public CompletableFuture<Void> allReduceAsync(ByteBuffer buffer, int offset, int count, ReduceOp op) {
    requireRegion(buffer, offset, count);
    requireOp(op);
    return submit("allreduce", () -> reduce(buffer, offset, count, op));
  }

  /**
   * The element range {@code [start, end)}, relative to a region's first element, that rank
   * {@code rank} of {@code worldSize} owns after {@link #reduceScatterAsync} of a region of
   * {@code count} floats: the region's chunk {@code (rank + 1) mod worldSize}, where the region's
   * {@code count % worldSize} first chunks are one element longer than the others. A world of one
   * owns the whole region. Pure arithmetic, the same on every rank.
   */
  public static Range ownedRange(int rank, int worldSize, int count) {
    if (worldSize < 1 || rank < 0 || rank >= worldSize || count < 0) {
      throw new IllegalArgumentException("expected 0 <= rank < worldSize and count >= 0, but found rank=" + rank
          + ", worldSize=" + worldSize + ", count=" + count);
    }
    int[] r = RingChunks.owned(rank, worldSize, count);
    return new Range(r[0], r[1]);
  }

  /** {@link #ownedRange(int, int, int)} for this rank and world. */
  public Range ownedRange(int count) {
    return ownedRange(rank, worldSize, count);
  }

  /**
   * A half-open range of elements.
   *
   * @param start first element
   * @param end   one past the last element; {@code end >= start}
   */
  public record Range(int start, int end) {
    /** Elements in the range. */
    public int length() {
      return end - start;
    }
  }

  /**
   * Queues the first half of an all-reduce of {@code count} floats at float index {@code offset}:
   * afterwards this rank's {@link #ownedRange owned chunk} of the region holds the finished sum
   * (or average), bitwise what {@link #allReduceAsync} would leave there with the same codec; the
   * rest of the region holds partial sums, to be overwritten by {@link #allGatherAsync}. Same
   * ordering and failure rules as {@link #allReduceAsync}. A world of one returns at once.
   */
  public CompletableFuture<Void> reduceScatterAsync(ByteBuffer buffer, int offset, int count, ReduceOp op) {
    requireRegion(buffer, offset, count);
    requireOp(op);
    return submit("reducescatter", () -> half(buffer, offset, count, op, RingAllReduce.Phase.REDUCE_SCATTER));
  }

  /**
   * Queues the second half of an all-reduce of {@code count} floats at float index {@code offset}:
   * every rank's {@link #ownedRange owned chunk} of the region is copied to every other rank. Always
   * exact float32, whatever the config's {@link WireCodec}, because it carries parameters. Same
   * ordering and failure rules as {@link #allReduceAsync}. A world of one returns at once.
   */
  public CompletableFuture<Void> allGatherAsync(ByteBuffer buffer, int offset, int count) {
    requireRegion(buffer, offset, count);
    return submit("allgather", () -> half(buffer, offset, count, ReduceOp.SUM, RingAllReduce.Phase.ALL_GATHER));
  }

  /** {@link #allGatherAsync}, waiting for it: every rank's owned chunk of the region reaches every rank. */
  public void allGather(ByteBuffer buffer, int offset, int count) throws RingException {
    await(allGatherAsync(buffer, offset, count));
  }

  /** In-place broadcast of {@code count} floats at float index {@code offset} from {@code root}. Always exact float32. */
  public void broadcast(ByteBuffer buffer, int offset, int count, int root) throws RingException {
    requireRegion(buffer, offset, count);
    requireRoot(root);
    await(submit("broadcast", () -> {
      if (transport != null && count > 0) {
        new RingBroadcast(transport, buffer, offset, count, root).run();
      }
    }));
  }

  /** In-place broadcast of a float array from {@code root}. */
  public void broadcast(float[] values, int root) throws RingException {
    requireRoot(root);
    await(submit("broadcast", () -> {
      if (transport != null && values.length > 0) {
        ByteBuffer buf = staging(values.length);
        buf.asFloatBuffer().put(values);
        new RingBroadcast(transport, buf, 0, values.length, root).run();
        buf.asFloatBuffer().get(values);
      }
    }));
  }

  /** Returns once every rank has entered the barrier. */
  public void barrier() throws RingException {
    await(submit("barrier", () -> {
      if (transport != null) {
        // Every element of an all-reduce depends on every rank's input, so no rank can leave
        // before all have entered.
        reduce(staging(worldSize), 0, worldSize, ReduceOp.SUM);
      }
    }));
  }

  private void reduce(ByteBuffer buffer, int offset, int count, ReduceOp op) throws RingException {
    reduce(buffer, offset, count, op, transport == null ? null : transport.config.codec());
  }

  /** The all-reduce of a region on the wire as {@code codec}. */
  private void reduce(ByteBuffer buffer, int offset, int count, ReduceOp op, WireCodec codec) throws RingException {
    if (transport == null || count == 0) {
      return; // one rank: the sum and the average are the input
    }
    new RingAllReduce(transport, buffer, offset, count, op, RingAllReduce.Phase.ALL, codec).run();
  }

  private void half(ByteBuffer buffer, int offset, int count, ReduceOp op, RingAllReduce.Phase phase)
      throws RingException {
    if (transport != null && count > 0) {
      new RingAllReduce(transport, buffer, offset, count, op, phase).run();
    }
  }

  private ByteBuffer staging(int floats) {
    if (scratch == null || scratch.capacity() < floats * Float.BYTES) {
      scratch = ByteBuffer.allocateDirect(Math.max(64, floats * Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN);
    }
    scratch.clear();
    return scratch;
  }

  private CompletableFuture<Void> submit(String name, Collective body) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(new IllegalStateException("the ring communicator of rank " + rank
          + " is closed; create a new one with RingCommunicator.connect"));
      return done;
    }
    queue.add(new Task(name, body, done));
    return done;
  }

  private void serve() {
    while (true) {
      Task task;
      try {
        task = queue.take();
      } catch (InterruptedException e) {
        break;
      }
      if (task.body() == null) {
        break; // close() marker
      }
      RingException earlier = failure;
      if (earlier != null) {
        task.done().completeExceptionally(new RingException(earlier, "the ring already failed: "));
        continue;
      }
      try {
        task.body().run();
        task.done().complete(null);
      } catch (RingException e) {
        failure = e;
        if (!closed) {
          LOG.error("rank {}: {} failed, closing the ring: {}", rank, task.name(), e.getMessage());
        }
        if (transport != null) {
          transport.close(); // the neighbours see the connection drop and fail fast too
        }
        task.done().completeExceptionally(e);
      } catch (RuntimeException | Error e) {
        // A bug mid-collective leaves the byte streams out of step: the ring cannot go on.
        failure = new RingException(null, RingException.Operation.PROTOCOL, "internal error in " + task.name()
            + ": " + e, e);
        LOG.error("rank {}: internal error in {}, closing the ring", rank, task.name(), e);
        if (transport != null) {
          transport.close();
        }
        task.done().completeExceptionally(e);
      }
    }
    failPending(new IllegalStateException("the ring communicator of rank " + rank + " was closed"));
  }

  private void failPending(RuntimeException why) {
    List<Task> left = new ArrayList<>();
    queue.drainTo(left);
    for (Task task : left) {
      if (task.done() != null) {
        task.done().completeExceptionally(why);
      }
    }
  }

  private static void await(CompletableFuture<Void> done) throws RingException {
    try {
      done.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RingException(null, RingException.Operation.READ, "interrupted while waiting for a collective", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RingException re) {
        throw new RingException(re, "");
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(cause);
    }
  }

  private void requireRegion(ByteBuffer buffer, int offset, int count) {
    if (buffer == null || !buffer.isDirect() || buffer.isReadOnly()) {
      throw new IllegalArgumentException("the ring reduces in place in a writable direct buffer, but found "
          + (buffer == null ? "null" : buffer.isDirect() ? "a read-only buffer" : "a heap buffer")
          + "; pass ByteBuffer.allocateDirect(..), INDArray.data().asNio(), or use the float[] overload");
    }
    long end = ((long) offset + count) * Float.BYTES;
    if (offset < 0 || count < 0 || end > buffer.capacity()) {
      throw new IllegalArgumentException("region [" + offset + ", " + offset + " + " + count + ") floats does not fit "
          + "in a buffer of " + buffer.capacity() / Float.BYTES + " floats");
    }
  }

  private static void requireOp(ReduceOp op) {
    if (op == null) {
      throw new IllegalArgumentException("op must be SUM or AVERAGE, but found null");
    }
  }

  private void requireRoot(int root) {
    if (root < 0 || root >= worldSize) {
      throw new IllegalArgumentException("root must be a rank in [0, " + worldSize + "), but found " + root);
    }
  }

  /**
   * Closes both connections and stops the collective thread; queued collectives fail with an
   * IllegalStateException, one in flight with a RingException. Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (transport != null) {
      transport.close();
    }
    queue.add(new Task("close", null, null));
    try {
      worker.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (worker.isAlive()) {
      LOG.warn("rank {}: the ring thread did not stop within 10 s of close()", rank);
    }
  }
}
