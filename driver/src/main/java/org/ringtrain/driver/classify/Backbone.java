// Backbone: a GPT whose weights start a Transformer classifier (the `backbone` param):
// read by PretrainedGpt.open (a ringtrain GPT checkpoint directory, an export directory or
// a Hugging Face GPT-2 safetensors file), checked against the classifier's params, and
// copied into a fresh classifier: the blocks and ln_f bit for bit, wte into the embedding
// rows after <pad> and <unk>, wpe's first maxLen rows into the position embedding. The
// head and the two reserved rows keep the seeded init. It does not train and does not
// tokenise (Vocabulary.forTokenizer does).
package org.ringtrain.driver.classify;

import java.io.IOException;
import java.io.Serializable;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.gpt.PretrainedGpt;
import org.ringtrain.driver.gpt.TrainedGpt;
import org.ringtrain.ops.classify.ClassifierConfig;
import org.ringtrain.ops.classify.SequenceClassifier;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.transformer.BlockTensors;

/**
 * A pretrained GPT's shape, tokenizer and weights, read once on the driver.
 *
 * @see TextClassifier#backbone()
 */
final class Backbone implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String source; // the checkpoint or file read
  private final String tokenizerId;
  private final ModelConfig shape;
  private final float[] weights; // the GPT's flat buffer: wte [V, C], wpe [T, C], h.*, ln_f

  private Backbone(String source, String tokenizerId, ModelConfig shape, float[] weights) {
    this.source = source;
    this.tokenizerId = tokenizerId;
    this.shape = shape;
    this.weights = weights;
  }

  /**
   * Reads {@code path} as {@link PretrainedGpt#open} does: a GPT run's checkpoint directory, a
   * directory {@code ringtrain export} wrote or a GPT-2 safetensors file with its config.json beside it.
   *
   * @throws IllegalArgumentException when the path does not exist or does not hold a GPT, saying what to give
   * @throws IOException              when reading fails
   */
  static Backbone load(String path, HadoopSettings hadoop) throws IOException {
    TrainedGpt gpt = PretrainedGpt.open(path, hadoop, "backbone").model();
    return new Backbone(gpt.checkpoint(), gpt.tokenizer().id(), gpt.modelConfig(), gpt.weights());
  }

  /** The checkpoint or file the weights came from. */
  String source() {
    return source;
  }

  /** The GPT's tokenizer id: {@code byte} or {@code gpt2}. */
  String tokenizerId() {
    return tokenizerId;
  }

  /** The GPT's shape (vocabulary, context length, width, blocks, heads). */
  ModelConfig shape() {
    return shape;
  }

  /**
   * Copies the GPT into a classifier of {@code spec} (whose vocabulary is the GPT's tokenizer
   * shifted by {@link Vocabulary#TOKENIZER_OFFSET}): the trunk bit for bit, wte into
   * {@code embed.weight} rows 2.., the first maxLen rows of wpe into {@code pos.weight}.
   */
  void initialise(ParameterBuffer params, ClassifierConfig spec) {
    long c = shape.dModel();
    long v = shape.vocabSize();
    ParameterLayout gpt = GptModel.layout(shape); // the order of the weights read: wte, wpe, blocks, ln_f
    long wteEnd = gpt.get("wpe.weight").offset();
    long trunkFrom = gpt.get(BlockTensors.firstName(0)).offset();
    ParameterLayout layout = params.layout();
    long embed = layout.get("embed.weight").offset() + Vocabulary.TOKENIZER_OFFSET * c;
    long pos = layout.get("pos.weight").offset();
    long trunk = layout.get(BlockTensors.firstName(0)).offset();
    long trunkLength = layout.get("head.weight").offset() - trunk;
    if (spec.vocabSize() != v + Vocabulary.TOKENIZER_OFFSET || spec.dModel() != c || spec.layers() != shape.layers()
        || trunkLength != weights.length - trunkFrom || spec.maxLen() > shape.contextLength()) {
      throw new IllegalStateException("classifier " + spec + " does not have the shape of backbone " + shape
          + "; TextClassifier resolves the shape from the backbone, so this is a bug");
    }
    copy(params, embed, 0, wteEnd);
    copy(params, pos, wteEnd, wteEnd + spec.maxLen() * c);
    copy(params, trunk, trunkFrom, weights.length);
  }

  /** {@code weights[from, to)} into the flat buffer at {@code at}. */
  private void copy(ParameterBuffer params, long at, long from, long to) {
    float[] part = java.util.Arrays.copyOfRange(weights, (int) from, (int) to);
    params.flat().get(NDArrayIndex.interval(at, at + part.length)).assign(Nd4j.createFromArray(part));
  }

  /**
   * The classifier config of this backbone: its width, blocks, heads and vocabulary (the
   * tokenizer's), causal attention as in pretraining, {@code maxLen} tokens per row.
   */
  ClassifierConfig classifierConfig(int maxLen, int numClasses) {
    return new ClassifierConfig(ClassifierConfig.Architecture.TRANSFORMER,
        shape.vocabSize() + Vocabulary.TOKENIZER_OFFSET, maxLen, shape.dModel(), shape.layers(), shape.heads(),
        numClasses, true);
  }

  /** How many parameters a classifier of {@code spec} has (its weights live in one float[]). */
  static long parameters(ClassifierConfig spec) {
    return SequenceClassifier.layout(spec).totalElements();
  }

  @Override
  public String toString() {
    return "Backbone[" + source + ", " + tokenizerId + ", " + shape + "]";
  }
}
