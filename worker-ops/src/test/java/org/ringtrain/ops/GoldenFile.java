/*
 * GoldenFile: reads the little-endian golden-tensor fixtures written by the NumPy reference
 * scripts in worker-ops/src/test/python, and compares gradients with them tensor by tensor. Test
 * code only.
 */
package org.ringtrain.ops;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.param.ParameterLayout;

/** A fixture's bytes, read front to back. */
public final class GoldenFile {

  private final ByteBuffer in;

  private GoldenFile(ByteBuffer in) {
    this.in = in;
  }

  /** The resource {@code name} next to {@code owner}, as written by {@code script}. */
  public static GoldenFile load(Class<?> owner, String name, String script) throws IOException {
    try (InputStream raw = owner.getResourceAsStream(name)) {
      assertNotNull(raw, "test resource " + name + " is missing; regenerate it with " + script);
      return new GoldenFile(ByteBuffer.wrap(raw.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN));
    }
  }

  /** The next int32. */
  public int nextInt() {
    return in.getInt();
  }

  /** The next float64. */
  public double nextDouble() {
    return in.getDouble();
  }

  /** The next {@code n} float64 values. */
  public double[] doubles(int n) {
    double[] out = new double[n];
    in.asDoubleBuffer().get(out);
    in.position(in.position() + 8 * n);
    return out;
  }

  /** The next {@code n} int32 values. */
  public int[] ints(int n) {
    int[] out = new int[n];
    in.asIntBuffer().get(out);
    in.position(in.position() + 4 * n);
    return out;
  }

  /**
   * Asserts {@code got} (a flat gradient buffer) matches {@code want} tensor by tensor within
   * {@code 1e-7 + 1e-6 * max|grad|}: the references are central differences (h = 1e-6), so ~1e-9
   * truncation and roundoff. The failure message reports the maximum difference of every tensor.
   */
  public static void assertGradientsMatch(ParameterLayout layout, INDArray got, double[] want) {
    INDArray expected = Nd4j.createFromArray(want);
    StringBuilder report = new StringBuilder();
    boolean ok = true;
    for (ParameterLayout.TensorSpec t : layout.tensors()) {
      INDArray g = got.get(NDArrayIndex.interval(t.offset(), t.offset() + t.length()));
      INDArray w = expected.get(NDArrayIndex.interval(t.offset(), t.offset() + t.length()));
      double maxAbs = g.sub(w).amaxNumber().doubleValue();
      double scale = w.amaxNumber().doubleValue();
      boolean pass = maxAbs <= 1e-7 + 1e-6 * scale;
      ok &= pass;
      report.append(String.format("%-26s maxAbs=%.2e max|grad|=%.2e %s%n", t.name(), maxAbs, scale,
          pass ? "ok" : "FAIL"));
    }
    assertTrue(ok, "gradients against the NumPy reference (tolerance 1e-7 + 1e-6 * max|grad|):\n" + report);
  }
}
