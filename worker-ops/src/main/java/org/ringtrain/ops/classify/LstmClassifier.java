/*
 * LstmClassifier: a stack of unidirectional LSTM layers over padded token rows, masked mean
 * pooling of the top layer's hidden states and a linear head, with explicit backpropagation
 * through time on the flat buffers. It is not bidirectional; its only dropout is on the pooled row
 * before the head (none inside or between the recurrences).
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.layers.Dropout;
import org.ringtrain.ops.layers.Kernels;
import org.ringtrain.ops.layers.Linear;
import org.ringtrain.ops.layers.SoftmaxCrossEntropy;
import org.ringtrain.ops.param.GradientListener;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * Embedding, L {@link Lstm} layers of hidden size H = C (gate order i, f, g, o), the mean of the
 * top layer's hidden states over the row's non-padding positions, and
 * {@code logits = pooled @ head.weight + head.bias}.
 *
 * <p>Layout (forward-use order): {@code embed.weight [V, C]}, per layer i
 * {@code lstm.i.w_ih [C, 4H]}, {@code lstm.i.w_hh [H, 4H]}, {@code lstm.i.bias [4H]}, then
 * {@code head.weight [C, K]}, {@code head.bias [K]}.
 *
 * <p>Padding is trailing, so it cannot influence a forward LSTM's earlier states, and its pooling
 * weight is 0: a row's output does not depend on its padding. Steps past the batch's longest row
 * are not computed. Internally everything is time-major ([T'*B, X]) so that a step's rows are
 * contiguous for the gemms.
 *
 * <p>Cost: {@link ClassifierConfig#trainingFlopsPerToken()}, {@code 48 L H^2} training FLOPs per
 * token, i.e. 6 times the LSTM weights. The recurrence costs, per step and layer, one gemm and one
 * fused cell call in each direction (float32; ~20 ND4J element-wise ops in float64), so at small H
 * the time goes to per-call overhead rather than to FLOPs.
 */
final class LstmClassifier extends AbstractClassifier<LstmActivations> {


  LstmClassifier(ClassifierConfig config, DataType dataType) {
    super(requireArchitecture(config, ClassifierConfig.Architecture.LSTM, "LstmClassifier"), layout(config), dataType);
  }

  /** The parameter layout of an LSTM classifier of this config. */
  static ParameterLayout layout(ClassifierConfig config) {
    long v = config.vocabSize();
    long h = config.dModel();
    ParameterLayout.Builder b = ParameterLayout.builder("lstm-classifier V=" + v + " T=" + config.maxLen()
        + " H=" + h + " L=" + config.layers() + " K=" + config.numClasses());
    b.add("embed.weight", v, h);
    for (int l = 0; l < config.layers(); l++) {
      b.add(prefix(l) + "w_ih", h, 4 * h).add(prefix(l) + "w_hh", h, 4 * h).add(prefix(l) + "bias", 4 * h);
    }
    b.add("head.weight", h, config.numClasses()).add("head.bias", config.numClasses());
    return b.build();
  }

  /** The name prefix of every LSTM tensor. */
  static final String PREFIX = "lstm.";

  /** The name prefix of layer {@code l}, e.g. {@code "lstm.1."}. */
  static String prefix(int l) {
    return PREFIX + l + ".";
  }

  @Override
  LstmActivations newActivations(int capacityBatch) {
    return new LstmActivations(config, capacityBatch, params.dataType());
  }

  @Override
  void forwardLogits(int[] tokens, int[] lengths, int batch, int steps) {
    LstmActivations a = activations(batch, steps);
    fillInputs(a, tokens, lengths);
    Nd4j.exec(DynamicCustomOp.builder("gather")
        .addInputs(params.view("embed.weight"), a.tokens)
        .addOutputs(a.embedded)
        .addIntegerArguments(0)
        .build());
    for (int l = 0; l < config.layers(); l++) {
      INDArray inp = l == 0 ? a.embedded : a.hidden[l - 1]; // [T'*B, C]
      Lstm.forward(a.hidden[l], a.cell[l], a.tanhCell[l], a.act[l], inp, params.view(prefix(l) + "w_ih"),
          params.view(prefix(l) + "w_hh"), params.view(prefix(l) + "bias"), steps, batch);
    }
    MaskedMeanPool.forwardTimeMajor(a.pooled, a.hidden[config.layers() - 1], a.poolWeights, a.poolTmp, a.ones,
        batch, steps);
    if (pooledDrop != null) {
      Dropout.forward(a.pooled, a.pooled, pooledDrop); // in place: the head's input is the dropped row
    }
    Linear.forward(a.logits, a.pooled, params.view("head.weight"), params.view("head.bias"));
  }

  /** Token ids of the first T' positions in time-major order, and the pooling weights. */
  private static void fillInputs(LstmActivations a, int[] tokens, int[] lengths) {
    int batch = a.batch;
    int steps = a.steps;
    int maxLen = tokens.length / batch;
    DataBuffer ids = a.tokens.data();
    long idBase = Kernels.bufferIndex(a.tokens);
    for (int t = 0; t < steps; t++) {
      for (int b = 0; b < batch; b++) {
        ids.put(idBase + (long) t * batch + b, tokens[b * maxLen + t]);
      }
    }
    MaskedMeanPool.fillWeights(a.poolWeights, lengths, steps, true);
  }

  /** The layers in exactly the reverse order of forward. */
  @Override
  void backwardFromLabels(int[] labels, GradientListener ready) {
    LstmActivations a = acts;
    int batch = a.batch;
    int steps = a.steps;
    long end = layout.totalElements();
    SoftmaxCrossEntropy.backward(a.dlogits, a.probs, labels, -1, 1.0);
    Linear.backward(a.dpooled, grads.view("head.weight"), grads.view("head.bias"), a.dlogits, a.pooled,
        params.view("head.weight"), a.ones);
    long layerEnd = layout.get("head.weight").offset();
    ready.ready(layerEnd, end);
    INDArray dout = a.dhiddenA;
    INDArray dinp = a.dhiddenB;
    if (pooledDrop != null) {
      Dropout.backward(a.dpooled, a.dpooled, pooledDrop);
    }
    MaskedMeanPool.backwardTimeMajor(dout, a.dpooled, a.poolWeights, a.ones, batch, steps);
    for (int l = config.layers() - 1; l >= 0; l--) {
      String p = prefix(l);
      INDArray inp = l == 0 ? a.embedded : a.hidden[l - 1];
      Lstm.backward(dinp, grads.view(p + "w_ih"), grads.view(p + "w_hh"), grads.view(p + "bias"), dout,
          inp, a.hidden[l], a.cell[l], a.tanhCell[l], a.act[l], params.view(p + "w_ih"), params.view(p + "w_hh"),
          a.dgates, a.deriv, a.oDtanh, a.dh, a.dc, a.dcNext, a.ones, steps, batch);
      long layerStart = layout.get(p + "w_ih").offset();
      ready.ready(layerStart, layerEnd);
      layerEnd = layerStart;
      INDArray swap = dout;
      dout = dinp;
      dinp = swap;
    }
    // scatter_add with its "lock" flag set runs serially: repeated tokens add up deterministically.
    INDArray dembed = grads.view("embed.weight");
    Nd4j.exec(DynamicCustomOp.builder("scatter_add")
        .addInputs(dembed, a.tokens, dout)
        .addOutputs(dembed)
        .addBooleanArguments(true, false)
        .build());
    ready.ready(0, layerEnd);
  }
}
