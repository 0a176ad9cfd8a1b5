/*
 * GradCheck: a finite-difference gradient checker for the worker-ops tests. It is test code only,
 * never used in training, and needs float64 arrays to give meaningful differences.
 */
package org.ringtrain.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Compares analytic gradients with central differences {@code (f(x+h) - f(x-h)) / 2h} on a sample
 * of elements per named tensor, and reports the maximum absolute and relative difference of each.
 * An element passes when {@code |analytic - numeric| <= ATOL + RTOL * max(|analytic|, |numeric|)}.
 */
public final class GradCheck {

  /** Step of the central difference, for float64. */
  public static final double H = 1e-6;
  /** Absolute tolerance: roundoff of the difference quotient is about 1e-16 / H = 1e-10. */
  public static final double ATOL = 1e-7;
  /** Relative tolerance: the truncation error is O(H^2) relative. */
  public static final double RTOL = 1e-5;

  private final List<String> lines = new ArrayList<>();
  private boolean failed;

  /** One tensor's result. */
  public record Result(String name, int checked, double maxAbs, double maxRel, boolean ok) {
  }

  /**
   * Checks one tensor.
   *
   * @param name       tensor name, for the report
   * @param x          the float64 tensor f depends on (perturbed in place and restored)
   * @param analytic   gradient of f with respect to x, same shape
   * @param f          the scalar objective, evaluated from the current contents of x
   * @param maxSamples how many elements to check at most (all when the tensor is smaller)
   */
  public Result check(String name, INDArray x, INDArray analytic, DoubleSupplier f, int maxSamples) {
    if (x.dataType() != DataType.DOUBLE) {
      throw new IllegalArgumentException("gradient checks need DOUBLE arrays, but " + name + " is " + x.dataType());
    }
    long n = x.length();
    Random pick = new Random(name.hashCode());
    int count = (int) Math.min(n, maxSamples);
    double maxAbs = 0;
    double maxRel = 0;
    boolean ok = true;
    for (int s = 0; s < count; s++) {
      long i = count == n ? s : (long) (pick.nextDouble() * n);
      double orig = x.getDouble(i);
      x.putScalar(i, orig + H);
      double plus = f.getAsDouble();
      x.putScalar(i, orig - H);
      double minus = f.getAsDouble();
      x.putScalar(i, orig);
      double numeric = (plus - minus) / (2 * H);
      double a = analytic.getDouble(i);
      double abs = Math.abs(a - numeric);
      double rel = abs / Math.max(Math.max(Math.abs(a), Math.abs(numeric)), 1e-12);
      maxAbs = Math.max(maxAbs, abs);
      if (abs > ATOL) {
        maxRel = Math.max(maxRel, rel);
      }
      if (abs > ATOL + RTOL * Math.max(Math.abs(a), Math.abs(numeric))) {
        ok = false;
      }
    }
    Result r = new Result(name, count, maxAbs, maxRel, ok);
    lines.add(String.format("%-28s n=%-5d maxAbs=%.3e maxRel=%.3e %s", name, count, maxAbs, maxRel,
        ok ? "ok" : "FAIL"));
    failed |= !ok;
    return r;
  }

  /** Whether every checked tensor passed. */
  public boolean passed() {
    return !failed;
  }

  /** The per-tensor report, one line each, for failure messages. */
  public String report() {
    return "tolerance |a-n| <= " + ATOL + " + " + RTOL + "*max(|a|,|n|), h=" + H + "\n" + String.join("\n", lines);
  }
}
