/*
 * LstmActivations: every activation and scratch array of the LSTM classifier for one (B, T')
 * batch shape, time-major, taken from an Arena sized for the largest batch seen. It computes
 * nothing; LstmClassifier fills and reads it.
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.param.Arena;

/**
 * Per layer the gate activations, cell states, tanh of the cell states and hidden states (kept
 * for backpropagation through time), plus scratch shared by the layers. Floats per token:
 * {@code C + L * 7H} kept, {@code 12H + 2} scratch (H = C); plus {@code 5H + 3K} per row and
 * one int32 token id per token.
 */
final class LstmActivations extends BatchActivations {


  INDArray embedded; // [T'*B, C]
  INDArray[] act; // L x [T'*B, 4H] gates i, f, g, o after their nonlinearity
  INDArray[] cell; // L x [T'*B, H]
  INDArray[] tanhCell; // L x [T'*B, H]
  INDArray[] hidden; // L x [T'*B, H]
  INDArray poolTmp; // [T'*B, H]

  INDArray dhiddenA; // [T'*B, H] gradient of a layer's output
  INDArray dhiddenB; // [T'*B, H] gradient of its input (the layer below's output)
  INDArray dgates; // [T'*B, 4H]
  INDArray deriv; // [T'*B, 4H]
  INDArray oDtanh; // [T'*B, H]
  INDArray dh; // [B, H]
  INDArray dc; // [B, H]
  INDArray dcNext; // [B, H]

  /** Activations for batches of up to {@code capacityBatch} rows of up to maxLen tokens. */
  LstmActivations(ClassifierConfig config, int capacityBatch, DataType dataType) {
    super(config, capacityBatch, dataType);
    allocate();
  }

  @Override
  void carveInto(Arena a, int b, int t, int r) {
    long n = (long) b * t;
    long h = config.dModel();
    poolWeights = a.take(n);
    int layers = config.layers();
    embedded = a.take(n, h);
    act = new INDArray[layers];
    cell = new INDArray[layers];
    tanhCell = new INDArray[layers];
    hidden = new INDArray[layers];
    for (int l = 0; l < layers; l++) {
      act[l] = a.take(n, 4 * h);
      cell[l] = a.take(n, h);
      tanhCell[l] = a.take(n, h);
      hidden[l] = a.take(n, h);
    }
    poolTmp = a.take(n, h);
    dhiddenA = a.take(n, h);
    dhiddenB = a.take(n, h);
    dgates = a.take(n, 4 * h);
    deriv = a.take(n, 4 * h);
    oDtanh = a.take(n, h);
    dh = a.take(b, h);
    dc = a.take(b, h);
    dcNext = a.take(b, h);
  }
}
