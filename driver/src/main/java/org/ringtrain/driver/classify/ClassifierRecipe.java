// A text classifier as a ModelRecipe for the data-parallel trainer: rows are
// maxLen padded token ids followed by the label. Pretrained word vectors, when
// given, overwrite the embedding rows they cover right after the seeded
// initialisation, identically on every rank; a GPT backbone (broadcast once)
// overwrites the embeddings and the blocks, leaving the head seeded. Training forwards drop out with the
// recipe's probability, keyed by (seed, step, row index) as the GPT's are.
package org.ringtrain.driver.classify;

import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.driver.train.ModelRecipe;
import org.ringtrain.ops.classify.ClassifierConfig;
import org.ringtrain.ops.classify.SequenceClassifier;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.TrainableModel;
import org.ringtrain.ops.transformer.DropoutKey;

/** Trains a {@link SequenceClassifier} of one {@link ClassifierConfig}. */
final class ClassifierRecipe implements ModelRecipe {
  private static final long serialVersionUID = 1L;

  private final ClassifierConfig spec;
  private final WordVectors pretrained; // null: the seeded initialisation only
  private final Broadcast<Backbone> backbone; // null: none
  private final String runConfigJson;
  private final double dropout;

  /** A recipe without dropout. */
  ClassifierRecipe(ClassifierConfig spec, WordVectors pretrained, String runConfigJson) {
    this(spec, pretrained, null, runConfigJson, 0);
  }

  /**
   * As above, started from a GPT {@code backbone} (null for none) and with dropout of probability
   * {@code dropout} in [0, 1) in training forwards (0 = none).
   */
  ClassifierRecipe(ClassifierConfig spec, WordVectors pretrained, Broadcast<Backbone> backbone, String runConfigJson,
      double dropout) {
    this.spec = spec;
    this.pretrained = pretrained;
    this.backbone = backbone;
    this.runConfigJson = runConfigJson;
    this.dropout = dropout;
  }

  @Override
  public int tokensPerRow() {
    return spec.maxLen();
  }

  /** Each row's tokens before its trailing PAD ids (the length a micro-batch is trimmed to). */
  @Override
  public int[] rowLengths(int[][] rows) {
    int maxLen = spec.maxLen();
    int[] lengths = new int[rows.length];
    for (int r = 0; r < rows.length; r++) {
      int len = maxLen;
      while (len > 0 && rows[r][len - 1] == SequenceClassifier.PAD_ID) {
        len--;
      }
      lengths[r] = len;
    }
    return lengths;
  }

  @Override
  public String configJson() {
    return runConfigJson;
  }

  @Override
  public ParameterLayout layout() {
    return SequenceClassifier.layout(spec);
  }

  @Override
  public Instance create(long seed, int microBatch) {
    SequenceClassifier model = SequenceClassifier.initialised(spec, seed);
    if (pretrained != null) {
      copyPretrained(model.params().view("embed.weight"), pretrained, spec.dModel());
    }
    if (backbone != null) {
      backbone.value().initialise(model.params(), spec);
    }
    return new ClassifierInstance(model, microBatch, spec.maxLen(), dropout, seed);
  }

  /** The model's own estimate (see {@link ClassifierConfig#trainingFlopsPerToken()}). */
  @Override
  public double flopsPerToken() {
    return spec.trainingFlopsPerToken();
  }

  /** Overwrites the embedding rows the word vectors cover. */
  static void copyPretrained(INDArray embed, WordVectors vectors, int dim) {
    INDArray all = Nd4j.createFromArray(vectors.vectors()).reshape(vectors.found().length, dim); // [V, C]
    for (int id = 0; id < vectors.found().length; id++) {
      if (vectors.found()[id]) {
        embed.get(NDArrayIndex.point(id), NDArrayIndex.all()).assign(all.getRow(id));
      }
    }
  }

  private static final class ClassifierInstance implements Instance {
    private final SequenceClassifier model;
    private final int maxLen;
    private final int[] tokens; // [B * maxLen]
    private final int[] labels; // [B]
    private final double dropout;
    private final long seed; // the run's, which the dropout masks are keyed by

    ClassifierInstance(SequenceClassifier model, int microBatch, int maxLen, double dropout, long seed) {
      this.model = model;
      this.maxLen = maxLen;
      this.dropout = dropout;
      this.seed = seed;
      this.tokens = new int[microBatch * maxLen];
      this.labels = new int[microBatch];
    }

    @Override
    public TrainableModel model() {
      return model;
    }

    @Override
    public double forward(int[][] rows, int[] picked) {
      fill(rows, picked);
      return model.forward(tokens, labels, picked.length);
    }

    /** Dropout masks keyed by (seed, step, each row's index in the training data). */
    @Override
    public double forwardTraining(int[][] rows, int[] picked, long step) {
      fill(rows, picked);
      return model.forward(tokens, labels, picked.length, dropout, new DropoutKey(seed, step, picked));
    }

    private void fill(int[][] rows, int[] picked) {
      for (int i = 0; i < picked.length; i++) {
        int[] row = rows[picked[i]];
        System.arraycopy(row, 0, tokens, i * maxLen, maxLen);
        labels[i] = row[maxLen];
      }
    }

    @Override
    public void close() {
      model.close();
    }
  }
}
