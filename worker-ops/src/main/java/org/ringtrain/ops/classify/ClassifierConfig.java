/*
 * ClassifierConfig: the hyper-parameters of a sequence classifier (Transformer encoder or LSTM),
 * validated once when constructed. It is not a training config (batch size, learning rate and
 * steps live with the trainer) and holds no tensors.
 */
package org.ringtrain.ops.classify;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * Hyper-parameters of a {@link SequenceClassifier}; validated in the compact constructor.
 *
 * @param architecture which model: {@link Architecture#TRANSFORMER} or {@link Architecture#LSTM}
 * @param vocabSize    number of token ids V, at least 3: ids 0 (PAD) and 1 (UNK) are reserved
 * @param maxLen       tokens per row, T (rows are padded to it with PAD_ID)
 * @param dModel       model width C; also the LSTM hidden size H
 * @param layers       Transformer blocks or stacked LSTM layers, L
 * @param heads        attention heads NH, must divide dModel (TRANSFORMER); ignored for LSTM
 * @param numClasses   number of classes K, at least 2
 * @param causal       TRANSFORMER only: each position attends to itself and the positions before it
 *                     (a GPT's mask), instead of to every token of the row; the mean pooling still
 *                     covers every non-padding position. For an encoder initialised from a GPT, whose
 *                     blocks were trained with that mask. Default false (bidirectional)
 */
public record ClassifierConfig(Architecture architecture, int vocabSize, int maxLen, int dModel, int layers,
    int heads, int numClasses, boolean causal) implements java.io.Serializable {

  /** The model family. */
  public enum Architecture {
    /** Pre-LayerNorm bidirectional Transformer encoder with masked mean pooling. */
    TRANSFORMER,
    /** Stacked unidirectional LSTM with masked mean pooling. */
    LSTM;

    /** "transformer" or "lstm": the name in params, saved models and messages. */
    @JsonValue
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "transformer" or "lstm", ignoring case and surrounding blanks. */
    @JsonCreator
    public static Architecture parse(String text) {
      if (text != null) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("transformer")) {
          return TRANSFORMER;
        }
        if (t.equals("lstm")) {
          return LSTM;
        }
      }
      throw new IllegalArgumentException("architecture must be 'transformer' or 'lstm' (any case), but found '"
          + text + "'");
    }
  }

  /** A bidirectional config ({@code causal} false), the default. */
  public ClassifierConfig(Architecture architecture, int vocabSize, int maxLen, int dModel, int layers, int heads,
      int numClasses) {
    this(architecture, vocabSize, maxLen, dModel, layers, heads, numClasses, false);
  }

  /** Validates every field; messages name the field, the value found and what to do. */
  public ClassifierConfig {
    if (architecture == null) {
      throw new IllegalArgumentException("architecture must not be null; pass Architecture.TRANSFORMER or"
          + " Architecture.LSTM (Architecture.parse(\"lstm\") parses a name)");
    }
    if (vocabSize < 3) {
      throw new IllegalArgumentException("vocabSize must be >= 3 (ids 0=PAD and 1=UNK are reserved), but found"
          + " vocabSize=" + vocabSize + "; count the reserved ids in the vocabulary size");
    }
    requirePositive("maxLen", maxLen);
    requirePositive("dModel", dModel);
    requirePositive("layers", layers);
    if (numClasses < 2) {
      throw new IllegalArgumentException("numClasses must be >= 2, but found numClasses=" + numClasses
          + "; a binary task has numClasses=2");
    }
    if (causal && architecture != Architecture.TRANSFORMER) {
      throw new IllegalArgumentException("causal attention is a TRANSFORMER setting, but found architecture "
          + architecture + " with causal=true; pass causal=false for an LSTM (it reads left to right anyway)");
    }
    if (architecture == Architecture.TRANSFORMER) {
      requirePositive("heads", heads);
      if (dModel % heads != 0) {
        throw new IllegalArgumentException("heads must divide dModel for a TRANSFORMER, but found dModel=" + dModel
            + " and heads=" + heads + " (remainder " + (dModel % heads) + "); choose heads among the divisors of "
            + dModel + " or change dModel");
      }
    }
  }

  /** Head size HS = dModel / heads (TRANSFORMER only). */
  public int headSize() {
    if (architecture != Architecture.TRANSFORMER) {
      throw new IllegalStateException("headSize() is defined for a TRANSFORMER only, but this is " + architecture);
    }
    return dModel / heads;
  }

  /**
   * Estimated training FLOPs (forward + backward) per non-padding token, for an MFU metric. Matrix
   * products only; the head and pooling run once per row and are left out.
   * <ul>
   *   <li>TRANSFORMER: {@code 6 * 12 L C^2} for the block weights (forward 2 FLOPs per weight per
   *       token, backward twice that) plus {@code 12 L T C} for the attention scores and their use
   *       over a row of T = maxLen tokens (Kaplan et al. 2020, arXiv:2001.08361, table 1).</li>
   *   <li>LSTM: {@code 6 * 8 L H^2}: the input and recurrent gemms, {@code [C, 4H]} and {@code [H, 4H]}
   *       with C = H, per layer.</li>
   * </ul>
   * Both equal 6 times the non-embedding, non-head parameters (up to biases) plus, for the
   * Transformer, the attention term.
   */
  public double trainingFlopsPerToken() {
    double c = dModel;
    if (architecture == Architecture.TRANSFORMER) {
      return 6.0 * 12 * layers * c * c + 12.0 * layers * maxLen * c;
    }
    return 6.0 * 8 * layers * c * c;
  }

  private static void requirePositive(String field, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(field + " must be > 0, but found " + field + "=" + value
          + "; pass a positive " + field);
    }
  }
}
