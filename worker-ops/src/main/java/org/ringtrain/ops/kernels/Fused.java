/*
 * Fused: the gate between the layers' ND4J compositions and the fused kernels of this package,
 * and the one place that turns an INDArray into a buffer the kernels can loop over. It computes
 * nothing itself.
 */
package org.ringtrain.ops.kernels;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a fused kernel may run on a set of arrays, and their buffers.
 *
 * <p>The kernels need the Vector API module ({@code --add-modules=jdk.incubator.vector}, which the
 * parent pom's {@code spark.jvm.flags} and Spark's own executor flags give every JVM of this
 * project); without it, or with {@code -Dringtrain.kernels.nd4j=true}, every layer runs its ND4J
 * composition instead and no class of this package that uses the Vector API is loaded.
 */
public final class Fused {

  private static final Logger LOG = LoggerFactory.getLogger(Fused.class);

  /** Whether the fused kernels run at all in this JVM; decided once. */
  public static final boolean AVAILABLE = vectorApiUsable();

  /** The class whose methods the JVM flag -XX:CompileCommand=inline,...::* should name. */
  static final String INLINE_LANES = "org.ringtrain.ops.kernels.Lanes";

  /** The most elements a kernel addresses in one array: its bytes must fit a ByteBuffer (int) index. */
  static final long MAX_ELEMENTS = Integer.MAX_VALUE / 4;

  private Fused() {
  }

  private static boolean vectorApiUsable() {
    if (Boolean.getBoolean("ringtrain.kernels.nd4j")) {
      LOG.info("fused kernels off (-Dringtrain.kernels.nd4j=true): the layers run their ND4J compositions");
      return false;
    }
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      LOG.warn("fused kernels off: the JVM lacks jdk.incubator.vector; start it with"
          + " --add-modules=jdk.incubator.vector (the parent pom's spark.jvm.flags) for the fast path");
      return false;
    }
    try {
      LOG.debug("fused kernels on: {} float lanes", Lanes.FLOATS);
      if (ManagementFactory.getRuntimeMXBean().getInputArguments().stream().noneMatch(a -> a.contains(INLINE_LANES))) {
        LOG.info("fused kernels on, without -XX:CompileCommand=inline,{}::* : the JIT may box their vectors"
            + " (the same results, up to ~1.5x slower steps); add it to the JVM's flags, see docs/architecture.md"
            + "#jvm-flags", INLINE_LANES);
      }
      return true;
    } catch (LinkageError e) {
      LOG.warn("fused kernels off: the Vector API did not load ({})", e.toString());
      return false;
    }
  }

  /**
   * Whether the fused kernels apply to these arrays: they are on in this JVM and every array is
   * float32, dense in row-major order (any view without gaps, such as a range of the flat
   * parameter buffer or an arena view, qualifies) and at most 2^29 - 1 elements long (larger
   * arrays, such as the flat buffers of a model of over half a billion parameters, take the ND4J
   * path).
   */
  public static boolean accepts(INDArray... arrays) {
    if (!AVAILABLE) {
      return false;
    }
    for (INDArray a : arrays) {
      if (a.dataType() != DataType.FLOAT || a.length() > MAX_ELEMENTS || !denseRowMajor(a)) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code a}'s elements lie in its buffer in row-major order without gaps. */
  static boolean denseRowMajor(INDArray a) {
    long expected = 1;
    for (int d = a.rank() - 1; d >= 0; d--) {
      long size = a.size(d);
      if (size != 1 && a.stride(d) != expected) {
        return false;
      }
      expected *= size;
    }
    return true;
  }

  /**
   * A native-order buffer over exactly {@code a}'s elements: byte 0 is its first
   * element, byte {@code 4 i} its i-th in row-major order. It shares memory with {@code a}.
   * {@code a} must be accepted by {@link #accepts} and hold fewer than 2^29 elements.
   */
  static ByteBuffer floats(INDArray a) {
    long first = a.offset() - a.data().originalOffset(); // index in a.data(), see Kernels.bufferIndex
    long bytes = a.length() * 4;
    if (a.length() > MAX_ELEMENTS) {
      throw new IllegalArgumentException("a fused kernel addresses at most " + MAX_ELEMENTS + " floats per array, but"
          + " found an array of " + a.length() + "; callers must check Fused.accepts first");
    }
    BytePointer p = new BytePointer(a.data().addressPointer());
    p.position(0).capacity(first * 4 + bytes);
    return p.position(first * 4).asByteBuffer().order(ByteOrder.nativeOrder());
  }

  /**
   * As {@link #floats} for a dense row-major array of any element width (float64 included), for
   * kernels that need no Vector API; its bytes must fit an int index.
   */
  static ByteBuffer elements(INDArray a) {
    int width = a.dataType().width();
    if (a.length() * width > Integer.MAX_VALUE || !denseRowMajor(a)) {
      throw new IllegalArgumentException("a kernel addresses a dense row-major array of under 2^31 bytes, but found "
          + a.length() + " elements of " + width + " bytes, strides " + java.util.Arrays.toString(a.stride())
          + "; callers must check the kernel's accepts first");
    }
    long first = a.offset() - a.data().originalOffset();
    BytePointer p = new BytePointer(a.data().addressPointer());
    p.position(0).capacity((first + a.length()) * width);
    return p.position(first * width).asByteBuffer().order(ByteOrder.nativeOrder());
  }
}
