/*
 * AbstractClassifier: what both classifiers share: the flat parameter and gradient buffers, input
 * validation, the forward/backward lifecycle and the cross-entropy head's bookkeeping. It holds no
 * layer maths; the subclasses run their layers.
 */
package org.ringtrain.ops.classify;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.layers.Dropout;
import org.ringtrain.ops.layers.SoftmaxCrossEntropy;
import org.ringtrain.ops.param.GradientListener;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.transformer.DropoutKey;
import org.ringtrain.ops.transformer.TransformerDropout;

/**
 * The lifecycle of {@link SequenceClassifier}: {@code forward} validates once, measures the row
 * lengths and the batch's longest row T', and lets the subclass compute the logits over T' steps
 * only (trailing padding cannot change any output, so steps past the longest row are skipped);
 * then the softmax cross-entropy. {@code backward} checks the lifecycle and delegates.
 */
abstract class AbstractClassifier<A extends BatchActivations> implements SequenceClassifier {

  /** Labels are never ignored; the loss is a plain mean over the rows. */
  private static final int NO_IGNORE = -1;

  /** The dropout site of the pooled rows: "layer" -2 (after the blocks, whose embeddings are -1), site 0. */
  private static final int POOLED_LAYER = -2;

  final ClassifierConfig config;
  final ParameterLayout layout;
  final ParameterBuffer params;
  ParameterBuffer grads;
  A acts; // sized for the largest batch so far; null before the first forward
  private int[] labels;
  TransformerDropout drop = TransformerDropout.NONE; // of the last forward; backward applies the same masks
  Dropout.Mask pooledDrop; // of the last forward; null without dropout
  private boolean backwardReady;
  private boolean forwardRan;

  AbstractClassifier(ClassifierConfig config, ParameterLayout layout, DataType dataType) {
    this.config = config;
    this.layout = layout;
    this.params = ParameterBuffer.zeros(layout, dataType);
  }

  @Override
  public final ClassifierConfig config() {
    return config;
  }

  @Override
  public final ParameterLayout layout() {
    return layout;
  }

  @Override
  public final ParameterBuffer params() {
    return params;
  }

  /** The flat gradient buffer, allocated (zeroed) on first use. */
  @Override
  public final ParameterBuffer grads() {
    if (grads == null) {
      grads = ParameterBuffer.zeros(layout, params.dataType());
    }
    return grads;
  }

  /** Sets every gradient to zero; the only place gradients are reset. */
  @Override
  public final void zeroGrad() {
    if (grads != null) {
      grads.zero();
    }
  }

  @Override
  public final double forward(int[] tokens, int[] labels, int batch) {
    return forward(tokens, labels, batch, 0, null);
  }

  @Override
  public final double forward(int[] tokens, int[] labels, int batch, double dropout, DropoutKey key) {
    int[] lengths = validate(tokens, labels, batch);
    int steps = 0;
    for (int len : lengths) {
      steps = Math.max(steps, len);
    }
    backwardReady = false;
    int heads = config.architecture() == ClassifierConfig.Architecture.TRANSFORMER ? config.heads() : 1;
    drop = TransformerDropout.of(dropout, key, batch, steps, heads);
    pooledDrop = drop.active() ? new Dropout.Mask(dropout, Dropout.siteKey(key.seed(), key.step(), POOLED_LAYER, 0),
        key.samples(), 1) : null;
    forwardLogits(tokens, lengths, batch, steps);
    forwardRan = true;
    INDArray logits = logits();
    INDArray probs = probabilities();
    if (labels == null) {
      this.labels = null;
      Nd4j.exec(new SoftMax(logits, probs, 1));
      return Double.NaN;
    }
    this.labels = labels.clone();
    backwardReady = true;
    return SoftmaxCrossEntropy.forward(probs, logits, this.labels, NO_IGNORE);
  }

  @Override
  public final INDArray probabilities() {
    if (!forwardRan) {
      throw new IllegalStateException("no forward has run yet; call forward(tokens, labels, B) before"
          + " probabilities()");
    }
    return probs();
  }

  @Override
  public final void backward(GradientListener listener) {
    if (!backwardReady) {
      throw new IllegalStateException("backward() needs a forward with labels first, and runs once per forward;"
          + " call forward(tokens, labels, B) with non-null labels, then backward()");
    }
    backwardReady = false;
    grads();
    backwardFromLabels(labels, listener == null ? (from, to) -> { } : listener);
  }

  /** Frees parameters, gradients and activations now. */
  @Override
  public final void close() {
    closeActivations();
    if (grads != null) {
      grads.close();
    }
    params.close();
  }

  /**
   * Computes the logits of a validated batch into {@link #logits()}, with the dropout of
   * {@link #drop} and {@link #pooledDrop} (set by forward before it calls this).
   *
   * @param tokens  B*maxLen ids, row-major, validated
   * @param lengths B row lengths (non-PAD tokens), each in [1, maxLen]
   * @param batch   B
   * @param steps   T', the longest row
   */
  abstract void forwardLogits(int[] tokens, int[] lengths, int batch, int steps);

  /** Logits [B, K] of the last forward. */
  final INDArray logits() {
    return acts.logits;
  }

  /** Probabilities [B, K] of the last forward (written here by the loss). */
  final INDArray probs() {
    return acts.probs;
  }

  /**
   * Backward of the last forward: softmax cross-entropy with {@code labels}, then every layer in
   * reverse order, reporting finished ranges to {@code ready}; grads are allocated.
   */
  abstract void backwardFromLabels(int[] labels, GradientListener ready);

  /** Activations for batches of up to {@code capacityBatch} rows. */
  abstract A newActivations(int capacityBatch);

  /** The activations carved for a (batch, steps) shape, reallocated only for a larger batch than before. */
  final A activations(int batch, int steps) {
    return activations(batch, steps, batch * steps);
  }

  /** {@link #activations(int, int)} with {@code rows} (at most batch*steps) token rows. */
  final A activations(int batch, int steps, int rows) {
    if (acts == null || acts.capacityBatch < batch) {
      closeActivations();
      acts = newActivations(batch);
    }
    acts.carve(batch, steps, rows);
    return acts;
  }

  /** Off-heap bytes of the activations currently allocated (0 before the first forward). */
  final long activationBytes() {
    return acts == null ? 0 : acts.bytes();
  }

  /** Frees the activations, if any. */
  final void closeActivations() {
    if (acts != null) {
      acts.close();
      acts = null;
    }
  }

  /** {@code config}, after checking it is of the architecture {@code owner} implements. */
  static ClassifierConfig requireArchitecture(ClassifierConfig config, ClassifierConfig.Architecture expected,
      String owner) {
    if (config.architecture() != expected) {
      throw new IllegalArgumentException(owner + " needs architecture " + expected + ", but found "
          + config.architecture() + "; use SequenceClassifier.create(config, type)");
    }
    return config;
  }

  /** The row lengths, after checking every input; IllegalArgumentException naming the first bad one. */
  private int[] validate(int[] tokens, int[] labels, int batch) {
    int maxLen = config.maxLen();
    if (batch <= 0) {
      throw new IllegalArgumentException("batch must be >= 1, but found batch=" + batch);
    }
    long n = (long) batch * maxLen;
    if (tokens == null || tokens.length != n) {
      throw new IllegalArgumentException("tokens must hold batch*maxLen=" + batch + "*" + maxLen + "=" + n
          + " ids (rows padded with PAD_ID=" + PAD_ID + " to maxLen), but found "
          + (tokens == null ? "null" : tokens.length + " ids"));
    }
    if (labels != null && labels.length != batch) {
      throw new IllegalArgumentException("labels must hold one class id per row, batch=" + batch + ", but found "
          + labels.length + " labels; pass null for inference");
    }
    int v = config.vocabSize();
    int[] lengths = new int[batch];
    for (int b = 0; b < batch; b++) {
      int base = b * maxLen;
      int len = 0;
      for (int t = 0; t < maxLen; t++) {
        int id = tokens[base + t];
        if (id < 0 || id >= v) {
          throw new IllegalArgumentException("token ids must be in [0, " + v + "), but found tokens[" + (base + t)
              + "]=" + id + " (row " + b + ", position " + t + "); map out-of-vocabulary words to UNK_ID="
              + UNK_ID + " or raise vocabSize");
        }
        if (id != PAD_ID) {
          if (len != t) {
            throw new IllegalArgumentException("padding must be trailing, but row " + b + " has PAD_ID at position "
                + len + " and token " + id + " at position " + t + "; put a row's tokens first and PAD_ID="
                + PAD_ID + " only after them");
          }
          len = t + 1;
        }
      }
      if (len == 0) {
        throw new IllegalArgumentException("row " + b + " is empty (all " + maxLen + " ids are PAD_ID=" + PAD_ID
            + "); drop empty texts or give them one UNK_ID=" + UNK_ID + " token");
      }
      lengths[b] = len;
      if (labels != null && (labels[b] < 0 || labels[b] >= config.numClasses())) {
        throw new IllegalArgumentException("labels must be in [0, " + config.numClasses() + "), but found labels["
            + b + "]=" + labels[b] + "; check the label mapping against numClasses");
      }
    }
    return lengths;
  }
}
