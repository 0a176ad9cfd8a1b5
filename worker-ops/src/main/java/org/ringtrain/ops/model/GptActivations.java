/*
 * GptActivations: every activation and scratch array one (B, T) batch shape needs, allocated once
 * and reused by every step of that shape. It computes nothing; GptModel fills and reads it.
 */
package org.ringtrain.ops.model;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.layers.Attention;

/**
 * Activations kept for backward (per block) and shared scratch, for one batch shape.
 *
 * <p>Floats per token: {@code C} (encoded) + per block {@code 16 C + 4 + NH * T} (ln1, qkv heads
 * 3C, attention probabilities NH*T, atty, residual2, ln2, fch 4C, GELU sigmoid 4C, residual3 and two
 * mean/rstd pairs; the GELU output is recomputed, not kept) + {@code C + 2 V + 2} at the top (ln_f,
 * logits, probabilities), and {@code 29 C + V + 2 NH * T + NH + 2} of scratch shared by all blocks.
 * {@link #bytes()} gives the exact total; docs/memory.md has the table.
 */
final class GptActivations implements AutoCloseable {

  final int batch;
  final int seqLen;
  final DataType dataType;
  private final List<INDArray> owned = new ArrayList<>();

  final INDArray tokens; // [B*T] int32
  final INDArray ones; // [1, B*T]
  final INDArray mask; // [T, T]
  final INDArray encoded; // [B*T, C]

  final INDArray[] ln1; // L x [B*T, C]
  final INDArray[] ln1Mean; // L x [B*T]
  final INDArray[] ln1Rstd; // L x [B*T]
  final INDArray[] qkvh; // L x [3, B, NH, T, HS]
  final INDArray[] att; // L x [B, NH, T, T]
  final INDArray[] atty; // L x [B*T, C]
  final INDArray[] residual2; // L x [B*T, C]
  final INDArray[] ln2; // L x [B*T, C]
  final INDArray[] ln2Mean; // L x [B*T]
  final INDArray[] ln2Rstd; // L x [B*T]
  final INDArray[] fch; // L x [B*T, 4C]
  final INDArray[] fchSig; // L x [B*T, 4C] GELU's sigmoid(2u), see Gelu
  final INDArray[] residual3; // L x [B*T, C]

  final INDArray lnf; // [B*T, C]
  final INDArray lnfMean; // [B*T]
  final INDArray lnfRstd; // [B*T]
  final INDArray logits; // [B*T, V]
  final INDArray probs; // [B*T, V]

  final INDArray qkv; // [B*T, 3C] forward scratch
  final INDArray proj; // [B*T, C] forward scratch (attention and MLP projections)
  final INDArray fchGelu; // [B*T, 4C] GELU output, recomputed from fch and fchSig in backward
  final INDArray yh; // [B, NH, T, HS] forward scratch

  final INDArray dlogits; // [B*T, V]
  final INDArray dresidual; // [B*T, C] gradient of the residual stream
  final INDArray dln; // [B*T, C]
  final INDArray datty; // [B*T, C]
  final INDArray dqkv; // [B*T, 3C]
  final INDArray dfchGelu; // [B*T, 4C]
  final INDArray dfch; // [B*T, 4C]
  final INDArray lnXhat; // [B*T, C]
  final INDArray lnTmp; // [B*T, C]
  final INDArray rowTmp; // [B*T]
  final INDArray dyh; // [B, NH, T, HS]
  final INDArray datt; // [B, NH, T, T]
  final INDArray attTmp; // [B, NH, T, T]
  final INDArray rowSum; // [B, NH, T]
  final INDArray dqkvh; // [3, B, NH, T, HS]

  GptActivations(ModelConfig config, int batch, int seqLen, DataType dataType) {
    this.batch = batch;
    this.seqLen = seqLen;
    this.dataType = dataType;
    long n = (long) batch * seqLen;
    long c = config.dModel();
    long v = config.vocabSize();
    long nh = config.heads();
    long hs = config.headSize();
    int layers = config.layers();

    tokens = own(Nd4j.create(DataType.INT32, n));
    ones = own(Nd4j.ones(dataType, 1, n));
    mask = own(Attention.causalMask(dataType, seqLen));
    encoded = mat(n, c);

    ln1 = new INDArray[layers];
    ln1Mean = new INDArray[layers];
    ln1Rstd = new INDArray[layers];
    qkvh = new INDArray[layers];
    att = new INDArray[layers];
    atty = new INDArray[layers];
    residual2 = new INDArray[layers];
    ln2 = new INDArray[layers];
    ln2Mean = new INDArray[layers];
    ln2Rstd = new INDArray[layers];
    fch = new INDArray[layers];
    fchSig = new INDArray[layers];
    residual3 = new INDArray[layers];
    for (int l = 0; l < layers; l++) {
      ln1[l] = mat(n, c);
      ln1Mean[l] = mat(n);
      ln1Rstd[l] = mat(n);
      qkvh[l] = mat(3, batch, nh, seqLen, hs);
      att[l] = mat(batch, nh, seqLen, seqLen);
      atty[l] = mat(n, c);
      residual2[l] = mat(n, c);
      ln2[l] = mat(n, c);
      ln2Mean[l] = mat(n);
      ln2Rstd[l] = mat(n);
      fch[l] = mat(n, 4 * c);
      fchSig[l] = mat(n, 4 * c);
      residual3[l] = mat(n, c);
    }
    lnf = mat(n, c);
    lnfMean = mat(n);
    lnfRstd = mat(n);
    logits = mat(n, v);
    probs = mat(n, v);

    qkv = mat(n, 3 * c);
    proj = mat(n, c);
    fchGelu = mat(n, 4 * c);
    yh = mat(batch, nh, seqLen, hs);

    dlogits = mat(n, v);
    dresidual = mat(n, c);
    dln = mat(n, c);
    datty = mat(n, c);
    dqkv = mat(n, 3 * c);
    dfchGelu = mat(n, 4 * c);
    dfch = mat(n, 4 * c);
    lnXhat = mat(n, c);
    lnTmp = mat(n, c);
    rowTmp = mat(n);
    dyh = mat(batch, nh, seqLen, hs);
    datt = mat(batch, nh, seqLen, seqLen);
    attTmp = mat(batch, nh, seqLen, seqLen);
    rowSum = mat(batch, nh, seqLen);
    dqkvh = mat(3, batch, nh, seqLen, hs);
  }

  /** Whether these activations fit a batch of this shape and type. */
  boolean fits(int b, int t, DataType type) {
    return b == batch && t == seqLen && type == dataType;
  }

  /** Off-heap bytes of every array held here. */
  long bytes() {
    long total = 0;
    for (INDArray a : owned) {
      total += a.length() * a.dataType().width();
    }
    return total;
  }

  @Override
  public void close() {
    for (INDArray a : owned) {
      if (!a.wasClosed()) {
        a.close();
      }
    }
    owned.clear();
  }

  private INDArray mat(long... shape) {
    return own(Nd4j.create(dataType, shape));
  }

  private INDArray own(INDArray a) {
    owned.add(a);
    return a;
  }
}
