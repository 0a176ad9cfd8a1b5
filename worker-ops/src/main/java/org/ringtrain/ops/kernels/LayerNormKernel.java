/*
 * LayerNormKernel: layer normalisation forward and backward in float32, one row per token, each
 * row read from memory once (its C floats then stay in L1 for the second pass). The maths is
 * LayerNorm's (org.ringtrain.ops.layers), which also holds the float64 path and documents the
 * formulas; this class is only the fast float loop.
 */
package org.ringtrain.ops.kernels;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code out = (inp - mean) * rstd * weight + bias} per row and llm.c's backward. The weight and
 * bias gradients are summed over rows in fixed chunks of {@link #CHUNK} rows and the chunk sums
 * added in chunk order, so they do not depend on the thread count.
 */
public final class LayerNormKernel {

  /** Rows per chunk of work, and per partial sum of the weight and bias gradients. */
  static final int CHUNK = 16;

  private LayerNormKernel() {
  }

  /**
   * Forward pass, as LayerNorm.forward: all float32 and accepted by {@link Fused#accepts}.
   *
   * @param out    [N, C] overwritten
   * @param mean   [N] overwritten
   * @param rstd   [N] overwritten
   * @param inp    [N, C]
   * @param weight [C]
   * @param bias   [C]
   * @param eps    added to the variance
   */
  public static void forward(INDArray out, INDArray mean, INDArray rstd, INDArray inp, INDArray weight,
      INDArray bias, double eps) {
    int n = (int) inp.size(0);
    int c = (int) inp.size(1);
    ByteBuffer o = Fused.floats(out);
    ByteBuffer m = Fused.floats(mean);
    ByteBuffer r = Fused.floats(rstd);
    ByteBuffer x = Fused.floats(inp);
    ByteBuffer w = Fused.floats(weight);
    ByteBuffer b = Fused.floats(bias);
    Parallel.forChunks(n, CHUNK, (from, to) -> {
      for (int row = from; row < to; row++) {
        forwardRow(o, m, r, x, w, b, row, c, (float) eps);
      }
    });
  }

  private static void forwardRow(ByteBuffer o, ByteBuffer m, ByteBuffer r, ByteBuffer x, ByteBuffer w, ByteBuffer b,
      int row, int c, float eps) {
    int base = row * c;
    int bound = Lanes.bound(c);
    FloatVector acc = FloatVector.zero(Lanes.FLOATS);
    int i = 0;
    for (; i < bound; i += Lanes.N) {
      acc = acc.add(Lanes.load(x, base + i));
    }
    float sum = Lanes.sum(acc);
    for (; i < c; i++) {
      sum += x.getFloat((base + i) * 4);
    }
    float mu = sum / c;
    FloatVector muV = FloatVector.broadcast(Lanes.FLOATS, mu);
    acc = FloatVector.zero(Lanes.FLOATS);
    for (i = 0; i < bound; i += Lanes.N) {
      FloatVector d = Lanes.load(x, base + i).sub(muV);
      acc = acc.add(d.mul(d));
    }
    float sq = Lanes.sum(acc);
    for (; i < c; i++) {
      float d = x.getFloat((base + i) * 4) - mu;
      sq += d * d;
    }
    float rs = (float) (1.0 / Math.sqrt(sq / c + eps));
    m.putFloat(row * 4, mu);
    r.putFloat(row * 4, rs);
    FloatVector rsV = FloatVector.broadcast(Lanes.FLOATS, rs);
    for (i = 0; i < bound; i += Lanes.N) {
      FloatVector xhat = Lanes.load(x, base + i).sub(muV).mul(rsV);
      Lanes.store(xhat.mul(Lanes.load(w, i)).add(Lanes.load(b, i)), o, base + i);
    }
    for (; i < c; i++) {
      float xhat = (x.getFloat((base + i) * 4) - mu) * rs;
      o.putFloat((base + i) * 4, xhat * w.getFloat(i * 4) + b.getFloat(i * 4));
    }
  }

  /**
   * Backward pass, as LayerNorm.backward: accumulates into {@code dinp}, {@code dweight} and
   * {@code dbias}. {@code partialW} and {@code partialB} hold one row of C floats per chunk of
   * {@link #CHUNK} rows (LayerNorm passes its [N, C] scratch arrays).
   *
   * @param dinp     [N, C] accumulated
   * @param dweight  [C] accumulated
   * @param dbias    [C] accumulated
   * @param dout     [N, C]
   * @param inp      [N, C]
   * @param weight   [C]
   * @param mean     [N] from forward
   * @param rstd     [N] from forward
   * @param partialW [>= ceil(N / CHUNK), C] scratch
   * @param partialB [>= ceil(N / CHUNK), C] scratch
   */
  public static void backward(INDArray dinp, INDArray dweight, INDArray dbias, INDArray dout, INDArray inp,
      INDArray weight, INDArray mean, INDArray rstd, INDArray partialW, INDArray partialB) {
    int n = (int) inp.size(0);
    int c = (int) inp.size(1);
    ByteBuffer dx = Fused.floats(dinp);
    ByteBuffer dy = Fused.floats(dout);
    ByteBuffer x = Fused.floats(inp);
    ByteBuffer w = Fused.floats(weight);
    ByteBuffer m = Fused.floats(mean);
    ByteBuffer r = Fused.floats(rstd);
    ByteBuffer pw = Fused.floats(partialW);
    ByteBuffer pb = Fused.floats(partialB);
    Parallel.forChunks(n, CHUNK, (from, to) -> {
      int partial = from / CHUNK * c;
      zero(pw, partial, c);
      zero(pb, partial, c);
      for (int row = from; row < to; row++) {
        backwardRow(dx, dy, x, w, m, r, pw, pb, partial, row, c);
      }
    });
    int chunks = (n + CHUNK - 1) / CHUNK;
    addRows(Fused.floats(dweight), pw, chunks, c);
    addRows(Fused.floats(dbias), pb, chunks, c);
  }

  private static void backwardRow(ByteBuffer dx, ByteBuffer dy, ByteBuffer x, ByteBuffer w, ByteBuffer m,
      ByteBuffer r, ByteBuffer pw, ByteBuffer pb, int partial, int row, int c) {
    int base = row * c;
    int bound = Lanes.bound(c);
    float mu = m.getFloat(row * 4);
    float rs = r.getFloat(row * 4);
    FloatVector muV = FloatVector.broadcast(Lanes.FLOATS, mu);
    FloatVector rsV = FloatVector.broadcast(Lanes.FLOATS, rs);
    // Pass 1: the row means of dnorm = dout * weight and of dnorm * xhat.
    FloatVector accD = FloatVector.zero(Lanes.FLOATS);
    FloatVector accDx = FloatVector.zero(Lanes.FLOATS);
    int i = 0;
    for (; i < bound; i += Lanes.N) {
      FloatVector xhat = Lanes.load(x, base + i).sub(muV).mul(rsV);
      FloatVector dnorm = Lanes.load(dy, base + i).mul(Lanes.load(w, i));
      accD = accD.add(dnorm);
      accDx = accDx.add(dnorm.mul(xhat));
    }
    float sumD = Lanes.sum(accD);
    float sumDx = Lanes.sum(accDx);
    for (; i < c; i++) {
      float xhat = (x.getFloat((base + i) * 4) - mu) * rs;
      float dnorm = dy.getFloat((base + i) * 4) * w.getFloat(i * 4);
      sumD += dnorm;
      sumDx += dnorm * xhat;
    }
    float meanD = sumD / c;
    float meanDx = sumDx / c;
    FloatVector meanDv = FloatVector.broadcast(Lanes.FLOATS, meanD);
    FloatVector meanDxV = FloatVector.broadcast(Lanes.FLOATS, meanDx);
    // Pass 2: dinp += rstd * (dnorm - mean(dnorm) - xhat * mean(dnorm * xhat)); the chunk's
    // partial sums of dweight (dout * xhat) and dbias (dout).
    for (i = 0; i < bound; i += Lanes.N) {
      FloatVector xhat = Lanes.load(x, base + i).sub(muV).mul(rsV);
      FloatVector g = Lanes.load(dy, base + i);
      FloatVector dnorm = g.mul(Lanes.load(w, i));
      FloatVector d = dnorm.sub(meanDv).sub(xhat.mul(meanDxV)).mul(rsV);
      Lanes.store(Lanes.load(dx, base + i).add(d), dx, base + i);
      Lanes.store(Lanes.load(pw, partial + i).add(g.mul(xhat)), pw, partial + i);
      Lanes.store(Lanes.load(pb, partial + i).add(g), pb, partial + i);
    }
    for (; i < c; i++) {
      float xhat = (x.getFloat((base + i) * 4) - mu) * rs;
      float g = dy.getFloat((base + i) * 4);
      float d = (g * w.getFloat(i * 4) - meanD - xhat * meanDx) * rs;
      dx.putFloat((base + i) * 4, dx.getFloat((base + i) * 4) + d);
      pw.putFloat((partial + i) * 4, pw.getFloat((partial + i) * 4) + g * xhat);
      pb.putFloat((partial + i) * 4, pb.getFloat((partial + i) * 4) + g);
    }
  }

  private static void zero(ByteBuffer b, int from, int count) {
    for (int i = 0; i < count; i++) {
      b.putFloat((from + i) * 4, 0f);
    }
  }

  /** {@code out[j] += sum over rows k < rows of in[k, j]}, rows added in order. */
  private static void addRows(ByteBuffer out, ByteBuffer in, int rows, int c) {
    int bound = Lanes.bound(c);
    int i = 0;
    for (; i < bound; i += Lanes.N) {
      FloatVector acc = FloatVector.zero(Lanes.FLOATS);
      for (int k = 0; k < rows; k++) {
        acc = acc.add(Lanes.load(in, k * c + i));
      }
      Lanes.store(Lanes.load(out, i).add(acc), out, i);
    }
    for (; i < c; i++) {
      float acc = 0;
      for (int k = 0; k < rows; k++) {
        acc += in.getFloat((k * c + i) * 4);
      }
      out.putFloat(i * 4, out.getFloat(i * 4) + acc);
    }
  }
}
