/*
 * ModelConfig: the hyper-parameters of a GPT-2 style decoder, validated once when constructed.
 * It is not a training config (batch size, learning rate and steps live with the trainer) and it
 * holds no tensors.
 */
package org.ringtrain.ops.gpt;

/**
 * Hyper-parameters of a GPT-2 style decoder; validated in the compact constructor.
 *
 * @param vocabSize     number of token ids, V; ids are 0 .. V-1
 * @param contextLength longest sequence the model can see, the rows of {@code wpe}
 * @param dModel        model width C
 * @param layers        number of Transformer blocks L
 * @param heads         attention heads NH; must divide {@code dModel}
 * @param dropout       dropout probability in [0, 1) on the embeddings, the attention probabilities
 *                      and each residual branch during training (GPT-2's placement); 0 turns it
 *                      off (default {@value #DEFAULT_DROPOUT}); evaluation and generation never drop
 */
public record ModelConfig(int vocabSize, int contextLength, int dModel, int layers, int heads, double dropout)
    implements java.io.Serializable {

  /** Dropout of every preset: 0, as for pretraining; fine-tuning on small corpora may use 0.1. */
  public static final double DEFAULT_DROPOUT = 0.0;

  /** Validates every field; messages name the field, the value found and what to do. */
  public ModelConfig {
    requirePositive("vocabSize", vocabSize);
    requirePositive("contextLength", contextLength);
    requirePositive("dModel", dModel);
    requirePositive("layers", layers);
    requirePositive("heads", heads);
    if (dModel % heads != 0) {
      throw new IllegalArgumentException("heads must divide dModel, but found dModel=" + dModel
          + " and heads=" + heads + " (remainder " + (dModel % heads) + "); choose heads among the divisors of "
          + dModel + " or change dModel");
    }
    if (!(dropout >= 0.0 && dropout < 1.0)) {
      throw new IllegalArgumentException("dropout must be in [0, 1), but found dropout=" + dropout
          + "; use 0 to turn it off, or a small probability such as 0.1");
    }
  }

  /** The config in Hugging Face GPT2Config field names, so Python tools can rebuild the model. */
  public String toHuggingFaceJson() {
    return "{\"vocab_size\":" + vocabSize + ",\"n_positions\":" + contextLength + ",\"n_embd\":" + dModel
        + ",\"n_layer\":" + layers + ",\"n_head\":" + heads + "}";
  }

  /** Head size HS = dModel / heads. */
  public int headSize() {
    return dModel / heads;
  }

  /** The tiny preset: vocab 256, ctx 128, d 128, 4 layers, 4 heads, no dropout. */
  public static ModelConfig tiny() {
    return new ModelConfig(256, 128, 128, 4, 4, DEFAULT_DROPOUT);
  }

  /**
   * The small preset, nanoGPT's character-level Shakespeare size (~10.7M parameters):
   * vocab 256, ctx 256, d 384, 6 layers, 6 heads, no dropout.
   */
  public static ModelConfig small() {
    return new ModelConfig(256, 256, 384, 6, 6, DEFAULT_DROPOUT);
  }

  private static void requirePositive(String field, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(field + " must be > 0, but found " + field + "=" + value
          + "; pass a positive " + field);
    }
  }
}
