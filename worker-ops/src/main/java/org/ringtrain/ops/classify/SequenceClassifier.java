/*
 * SequenceClassifier: what a text classifier offers the trainer and the evaluator: a forward pass
 * over padded token rows with optional labels, class probabilities, and the TrainableModel
 * contract (flat parameters and gradients, backward with a gradient listener). It is not a
 * tokenizer and does not load word vectors (the caller assigns them into params().view("embed.weight")).
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.param.GradientListener;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.TrainableModel;
import org.ringtrain.ops.transformer.DropoutKey;

/**
 * A classifier of token rows into K classes, trained on one flat parameter buffer.
 *
 * <p>Input convention: a batch is {@code B * maxLen} token ids, row-major; a row is its tokens
 * followed by {@link #PAD_ID} up to maxLen (padding is trailing; a row needs at least one token).
 * Out-of-vocabulary words should be mapped to {@link #UNK_ID}. Padding never changes a row's
 * output, and rows do not influence each other.
 *
 * <p>Parameter tensors shared by every architecture: {@code embed.weight [V, C]} (the first tensor
 * of the buffer), {@code head.weight [C, K]} and {@code head.bias [K]} (the last two). The layout
 * lists tensors in the order forward uses them. Pretrained word vectors go in with
 * {@code params().view("embed.weight").assign(vectors)} ([V, C]) or row by row; embed.weight starts
 * at offset 0 of the flat buffer, so its row views are safe (sub-views of views at an offset are
 * not always, in ND4J 1.0.0-M2.1: see Arena).
 *
 * <p>Use: {@code forward(tokens, labels, B)} returns the mean cross-entropy; {@code backward()}
 * accumulates gradients into {@link #grads()}; {@link #zeroGrad()} resets them. Gradients and
 * activations are allocated lazily; activations are sized for the largest batch seen so far.
 * Not thread-safe: one model per rank thread.
 */
public interface SequenceClassifier extends TrainableModel {

  /** Token id of padding: trailing positions of a row shorter than maxLen. */
  int PAD_ID = 0;

  /** Token id of unknown (out-of-vocabulary) words. */
  int UNK_ID = 1;

  /**
   * A classifier of {@code config.architecture()} with all parameters zero.
   *
   * @param dataType FLOAT for training, DOUBLE for gradient checks
   */
  static SequenceClassifier create(ClassifierConfig config, DataType dataType) {
    if (config == null) {
      throw new IllegalArgumentException("config must not be null; pass a ClassifierConfig");
    }
    return switch (config.architecture()) {
      case TRANSFORMER -> new TransformerClassifier(config, dataType);
      case LSTM -> new LstmClassifier(config, dataType);
    };
  }

  /** The parameter layout of a classifier of {@code config}, without allocating one. */
  static ParameterLayout layout(ClassifierConfig config) {
    if (config == null) {
      throw new IllegalArgumentException("config must not be null; pass a ClassifierConfig");
    }
    return switch (config.architecture()) {
      case TRANSFORMER -> TransformerClassifier.layout(config);
      case LSTM -> LstmClassifier.layout(config);
    };
  }

  /**
   * A float32 classifier initialised from {@code seed}; the same seed gives bitwise the same
   * parameters in every JVM (see {@link ClassifierInit} for the distributions).
   */
  static SequenceClassifier initialised(ClassifierConfig config, long seed) {
    SequenceClassifier model = create(config, DataType.FLOAT);
    ClassifierInit.initialise(model.params(), config, seed);
    return model;
  }

  /** The configuration. */
  ClassifierConfig config();

  /**
   * Runs the model on a batch and, when labels are given, computes the loss.
   *
   * @param tokens B*maxLen token ids, row-major [B, maxLen], each in [0, V); trailing PAD_ID padding
   * @param labels B class ids in [0, K), or null for inference only (then backward is illegal)
   * @param batch  B, at least 1
   * @return the mean softmax cross-entropy over the B rows, or NaN when labels is null
   * @throws IllegalArgumentException naming the row, position and value of the first bad input
   */
  double forward(int[] tokens, int[] labels, int batch);

  /**
   * A training forward: as {@link #forward(int[], int[], int)}, with inverted dropout of
   * probability {@code dropout} on the pooled row before the head and, in the Transformer, on the
   * embeddings, the attention probabilities and each residual branch (GPT-2's sites). Masks depend
   * only on {@code key} (seed, step, each row's sample index) and each element's place, so backward
   * sees the same masks. {@code dropout} 0 or a null key is exactly the forward without dropout.
   *
   * @param dropout drop probability in [0, 1)
   * @param key     the masks' key, one sample index per row; null for no dropout
   */
  double forward(int[] tokens, int[] labels, int batch, double dropout, DropoutKey key);

  /**
   * Class probabilities [B, K] of the last forward: softmax of the logits. A view valid until the
   * next forward.
   *
   * @throws IllegalStateException before the first forward
   */
  INDArray probabilities();

  /**
   * Accumulates the gradients of the last forward's loss into {@link #grads()}, telling
   * {@code listener} (if not null) when a range of the flat buffer is final: the head first, then
   * each layer from the last to the first, then the embeddings, each range ending where the
   * previous began.
   *
   * @throws IllegalStateException unless a forward with labels preceded it (once per forward)
   */
  @Override
  void backward(GradientListener listener);
}
