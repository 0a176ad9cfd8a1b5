/*
 * TransformerActivations: every activation and scratch array of the Transformer classifier for
 * one (B, T') batch shape, taken from an Arena sized for the largest batch seen. It
 * computes nothing; TransformerClassifier fills and reads it.
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Activations kept for backward (per block, as in GptModel) and scratch shared by the blocks.
 * {@link #carve} lays them out for a batch shape; any (B, T') with B &lt;= the capacity's batch
 * and T' &lt;= maxLen fits, because every array grows with B and T'.
 */
final class TransformerActivations extends BatchActivations {


  INDArray mask; // [B, 1, 1, T'] 0 for tokens, Attention.MASKED for padded keys
  INDArray poolWeights; // [B*T'] 1/len or 0
  INDArray encoded; // [B*T', C]

  INDArray[] ln1; // L x [B*T', C]
  INDArray[] ln1Mean; // L x [B*T']
  INDArray[] ln1Rstd; // L x [B*T']
  INDArray[] qkvh; // L x [3, B, NH, T', HS]
  INDArray[] att; // L x [B, NH, T', T']
  INDArray[] atty; // L x [B*T', C]
  INDArray[] residual2; // L x [B*T', C]
  INDArray[] ln2; // L x [B*T', C]
  INDArray[] ln2Mean; // L x [B*T']
  INDArray[] ln2Rstd; // L x [B*T']
  INDArray[] fch; // L x [B*T', 4C]
  INDArray[] fchSig; // L x [B*T', 4C]
  INDArray[] residual3; // L x [B*T', C]

  INDArray lnf; // [B*T', C]
  INDArray lnfMean; // [B*T']
  INDArray lnfRstd; // [B*T']
  INDArray pooled; // [B, C]

  INDArray qkv; // [B*T', 3C] forward scratch
  INDArray proj; // [B*T', C] forward scratch
  INDArray fchGelu; // [B*T', 4C] forward scratch, recomputed in backward
  INDArray yh; // [B, NH, T', HS] forward scratch

  INDArray dlogits; // [B, K]
  INDArray dpooled; // [B, C]
  INDArray dresidual; // [B*T', C]
  INDArray dln; // [B*T', C]
  INDArray datty; // [B*T', C]
  INDArray dqkv; // [B*T', 3C]
  INDArray dfchGelu; // [B*T', 4C]
  INDArray dfch; // [B*T', 4C]
  INDArray lnXhat; // [B*T', C]
  INDArray lnTmp; // [B*T', C]
  INDArray rowTmp; // [B*T']
  INDArray dyh; // [B, NH, T', HS]
  INDArray datt; // [B, NH, T', T']
  INDArray attTmp; // [B, NH, T', T']
  INDArray rowSum; // [B, NH, T']
  INDArray dqkvh; // [3, B, NH, T', HS]

  /** Activations for batches of up to {@code capacityBatch} rows of up to maxLen tokens. */
  TransformerActivations(ClassifierConfig config, int capacityBatch, DataType dataType) {
    super(config, capacityBatch, dataType);
    allocate();
  }

  @Override
  void carveInto(Arena a, int b, int t) {
    long n = (long) b * t;
    long c = config.dModel();
    long k = config.numClasses();
    long nh = config.heads();
    long hs = config.headSize();
    int layers = config.layers();
    ones = a.take(1, n);
    mask = a.take(b, 1, 1, t);
    poolWeights = a.take(n);
    encoded = a.take(n, c);
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
      ln1[l] = a.take(n, c);
      ln1Mean[l] = a.take(n);
      ln1Rstd[l] = a.take(n);
      qkvh[l] = a.take(3, b, nh, t, hs);
      att[l] = a.take(b, nh, t, t);
      atty[l] = a.take(n, c);
      residual2[l] = a.take(n, c);
      ln2[l] = a.take(n, c);
      ln2Mean[l] = a.take(n);
      ln2Rstd[l] = a.take(n);
      fch[l] = a.take(n, 4 * c);
      fchSig[l] = a.take(n, 4 * c);
      residual3[l] = a.take(n, c);
    }
    lnf = a.take(n, c);
    lnfMean = a.take(n);
    lnfRstd = a.take(n);
    pooled = a.take(b, c);
    logits = a.take(b, k);
    probs = a.take(b, k);
    qkv = a.take(n, 3 * c);
    proj = a.take(n, c);
    fchGelu = a.take(n, 4 * c);
    yh = a.take(b, nh, t, hs);
    dlogits = a.take(b, k);
    dpooled = a.take(b, c);
    dresidual = a.take(n, c);
    dln = a.take(n, c);
    datty = a.take(n, c);
    dqkv = a.take(n, 3 * c);
    dfchGelu = a.take(n, 4 * c);
    dfch = a.take(n, 4 * c);
    lnXhat = a.take(n, c);
    lnTmp = a.take(n, c);
    rowTmp = a.take(n);
    dyh = a.take(b, nh, t, hs);
    datt = a.take(b, nh, t, t);
    attTmp = a.take(b, nh, t, t);
    rowSum = a.take(b, nh, t);
    dqkvh = a.take(3, b, nh, t, hs);
  }
}
