/*
 * GptModel: a GPT-2 decoder with an explicit forward and backward pass over one flat parameter
 * buffer and one flat gradient buffer, in llm.c's style. It does not update parameters (the
 * optimizers in org.ringtrain.ops.optim do), does not talk to other ranks, and does no I/O.
 * Why over 300 lines: it is the one place that composes embedding, trunk and tied head, and the
 * head's options (chunk rows, soft targets for distillation, frozen weights for fine-tuning) are
 * settings of that composition, read by forward and backward.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.io.SafetensorsWriter;
import org.ringtrain.ops.layers.Dropout;
import org.ringtrain.ops.layers.Encoder;
import org.ringtrain.ops.layers.SoftmaxCrossEntropy;
import org.ringtrain.ops.param.GradientListener;
import org.ringtrain.ops.param.ParameterBuffer;
import org.ringtrain.ops.param.ParameterInit;
import org.ringtrain.ops.param.ParameterLayout;
import org.ringtrain.ops.param.TrainableModel;
import org.ringtrain.ops.transformer.BlockAdapters;
import org.ringtrain.ops.transformer.BlockTensors;
import org.ringtrain.ops.transformer.DropoutKey;
import org.ringtrain.ops.transformer.TransformerActivations;
import org.ringtrain.ops.transformer.TransformerDropout;
import org.ringtrain.ops.transformer.TransformerInit;
import org.ringtrain.ops.transformer.TransformerTrunk;

/**
 * GPT-2: token + position embedding, a {@link TransformerTrunk} of L pre-LayerNorm blocks with
 * causal self-attention and a final LayerNorm, and an LM head tied to {@code wte}.
 *
 * <p>Use: {@code forward(inputs, targets, B, T)} returns the mean cross-entropy loss;
 * {@code backward()} then accumulates the gradients into {@link #grads()}; {@link #zeroGrad()} resets
 * them (call it once per optimizer step, not per micro-batch, to accumulate gradients).
 *
 * <p>Memory, all off-heap and allocated once (details and tables in docs/memory.md):
 * <ul>
 *   <li>per parameter: 4 bytes of parameters + 4 of gradients in float32; AdamW adds 12 (m, v and
 *       an update scratch), so training holds 20 bytes per parameter;</li>
 *   <li>activations: allocated on the first forward of a (B, T) shape and reused while the shape
 *       stays; a new shape frees the old set. Per token, in float32 elements:
 *       {@code C + L (16 C + 4 + NH T)} kept for backward, {@code C + 2} for the final
 *       LayerNorm, and {@code 29 C + NH T + NH + 2} of scratch shared by all blocks, plus one
 *       int32 token id; the LM head adds {@code 2 R V} for its chunk of R positions (see
 *       {@link #setHeadChunkRows}). For the small config (C 384, L 6, NH 6, T 256, V 256) that is
 *       ~240 KiB per token, ~480 MiB at B 8. {@link #activationBytes()} gives the exact figure.</li>
 * </ul>
 * Off-heap memory does not grow from step to step: no step allocates an ND4J array. ND4J's ops
 * still create small native temporaries (a few KiB per op, e.g. shape descriptors) that are freed
 * when Java's GC collects their owners; measured off-heap use levels off after ~100 steps.
 *
 * <p>Not thread-safe: one model per rank thread.
 */
public final class GptModel implements TrainableModel {

  /**
   * Bytes of one of the LM head's two chunk arrays when {@link #setHeadChunkRows} is not called:
   * 32 MiB, so the head holds at most 64 MiB of logits and probabilities (at V 50257 in float32,
   * chunks of 128 positions, the whole tiles that fit), and small vocabularies get one chunk for any batch up to 32 Ki
   * positions per 256 tokens of vocabulary.
   */
  public static final long DEFAULT_HEAD_CHUNK_BYTES = 32L << 20;

  /**
   * Rows of each of the LM head's gemms, 128: its chunks are whole numbers of these tiles, so that
   * loss and gradients are the same bit for bit for every chunk size (see {@link ChunkedLmHead}).
   * Large enough that packing wte for each gemm costs little beside the gemm.
   */
  public static final int HEAD_TILE_ROWS = 128;

  private final ModelConfig config;
  private final ParameterLayout layout;
  private final ParameterBuffer params;
  private final TransformerTrunk trunk;
  private final int ignoreIndex;
  private final long embeddingsEnd; // wte and wpe are the buffer's first elements
  private ParameterBuffer grads;
  private GptActivations acts;
  private boolean recompute;
  private TransformerDropout dropout = TransformerDropout.NONE; // of the last forward
  private int headChunkRows;
  private int[] targets;
  private boolean backwardReady;
  private SoftTargets softTargets; // null: the loss is the cross-entropy alone

  /**
   * A model with zero parameters of the given type (FLOAT for training, DOUBLE for gradient
   * checks) and the default ignore index {@value SoftmaxCrossEntropy#DEFAULT_IGNORE_INDEX}.
   */
  public GptModel(ModelConfig config, DataType dataType) {
    this(config, dataType, SoftmaxCrossEntropy.DEFAULT_IGNORE_INDEX);
  }

  /** A model with zero parameters, ignoring targets equal to {@code ignoreIndex} in the loss. */
  public GptModel(ModelConfig config, DataType dataType, int ignoreIndex) {
    if (ignoreIndex >= 0 && ignoreIndex < config.vocabSize()) {
      throw new IllegalArgumentException("ignoreIndex must be outside the vocabulary [0, " + config.vocabSize()
          + "), but found " + ignoreIndex + "; use -1 (the default)");
    }
    this.config = config;
    this.layout = layout(config);
    this.params = ParameterBuffer.zeros(layout, dataType);
    this.trunk = new TransformerTrunk(params, config.layers(), config.heads());
    this.ignoreIndex = ignoreIndex;
    this.embeddingsEnd = layout.get(BlockTensors.firstName(0)).offset();
    this.headChunkRows = defaultHeadChunkRows(config.vocabSize(), dataType.width());
  }

  /**
   * The chunk rows of {@link #DEFAULT_HEAD_CHUNK_BYTES} for a vocabulary of {@code vocabSize} and
   * {@code width}-byte floats, rounded down to whole {@link #HEAD_TILE_ROWS} tiles (at least one).
   */
  public static int defaultHeadChunkRows(int vocabSize, int width) {
    long rows = Math.min(Integer.MAX_VALUE, DEFAULT_HEAD_CHUNK_BYTES / ((long) vocabSize * width));
    return (int) Math.max(HEAD_TILE_ROWS, rows - rows % HEAD_TILE_ROWS);
  }

  /**
   * The parameter layout of a GPT-2 decoder of this config, Hugging Face GPT-2 names:
   * {@code wte.weight [V, C]}, {@code wpe.weight [maxT, C]}, the trunk's {@code h.i.*} and
   * {@code ln_f.*} (see {@link BlockTensors}). Walking the buffer from the end meets the tensors
   * in the order backward finishes them ({@code ln_f} first, {@code wte} last, because both the
   * tied LM head and the token embedding write its gradient), so the all-reduce can cut gradient
   * buckets as ranges from the end. The safetensors metadata carries the config with Hugging Face
   * GPT2Config names.
   */
  public static ParameterLayout layout(ModelConfig config) {
    if (config == null) {
      throw new IllegalArgumentException("config must not be null; pass a ModelConfig such as ModelConfig.tiny()");
    }
    long c = config.dModel();
    ParameterLayout.Builder b = ParameterLayout.builder("gpt2 " + config)
        .describe(SafetensorsWriter.MODEL_CONFIG_KEY, config.toHuggingFaceJson());
    b.add("wte.weight", config.vocabSize(), c);
    b.add("wpe.weight", config.contextLength(), c);
    TransformerTrunk.addTo(b, config.layers(), c);
    return b.build();
  }

  /** Fills {@code params} (a {@link #layout} of a {@code layers}-block GPT) as GPT-2, from {@code seed}. */
  public static void initialise(ParameterBuffer params, int layers, long seed) {
    ParameterInit.initialise(params, seed, TransformerInit.rule(layers));
  }

  /** A float32 model initialised as GPT-2 from {@code seed} (see {@link TransformerInit}). */
  public static GptModel initialised(ModelConfig config, long seed) {
    GptModel model = new GptModel(config, DataType.FLOAT);
    initialise(model.params, config.layers(), seed);
    return model;
  }

  /** The configuration. */
  public ModelConfig config() {
    return config;
  }

  /** The parameter layout shared by parameters, gradients and optimizer state. */
  @Override
  public ParameterLayout layout() {
    return layout;
  }

  /** The flat parameter buffer. */
  @Override
  public ParameterBuffer params() {
    return params;
  }

  /** The flat gradient buffer, allocated (zeroed) on first use. */
  @Override
  public ParameterBuffer grads() {
    if (grads == null) {
      grads = ParameterBuffer.zeros(layout, params.dataType());
    }
    return grads;
  }

  /**
   * Freezes every weight for fine-tuning (irreversible): backward then computes no weight
   * gradient at all (no dW gemm in the blocks, none for the tied head, no embedding backward) and
   * {@link #grads()} is never allocated by it; it computes the activation gradients and, through
   * {@code adapters} (null for none, called beside the blocks' linear layers in forward and
   * backward), the adapters' gradients. The listener of {@link #backward(GradientListener)} still
   * hears the ranges of this model's layout. The KV-cache {@link Generator} does not see adapters:
   * generate from merged weights.
   */
  public void freeze(BlockAdapters adapters) {
    trunk.freeze(adapters);
  }

  /** Whether {@link #freeze} was called. */
  public boolean frozen() {
    return trunk.frozen();
  }

  /** Sets every gradient to zero. The only place gradients are reset. */
  @Override
  public void zeroGrad() {
    if (grads != null) {
      grads.zero();
    }
  }

  /**
   * Activation recomputation (default off): when on, forward keeps only each block's input and
   * backward recomputes the block's other activations just before its backward, trading one more
   * forward pass of the blocks for ~{@code (15 C + NH T) / (16 C + NH T)} of the blocks' activation
   * memory. Gradients are bit for bit the same. Takes effect at the next forward.
   */
  public void setRecompute(boolean on) {
    this.recompute = on;
  }

  /**
   * Positions R per chunk of the LM head and its loss (default: {@link #DEFAULT_HEAD_CHUNK_BYTES} of
   * logits, see {@link #defaultHeadChunkRows}). The head then holds 2 R V floats instead of
   * B*T*V, with the loss and gradients of the unchunked head bit for bit (see
   * {@link ChunkedLmHead}). Takes effect at the next forward.
   *
   * @param rows R, a positive multiple of {@link #HEAD_TILE_ROWS}
   */
  public void setHeadChunkRows(int rows) {
    if (rows < 1 || rows % HEAD_TILE_ROWS != 0) {
      throw new IllegalArgumentException("head chunk rows must be a positive multiple of the head's "
          + HEAD_TILE_ROWS + "-row tile, but found " + rows + "; use a multiple of GptModel.HEAD_TILE_ROWS, or"
          + " GptModel.defaultHeadChunkRows(V, 4) for a " + DEFAULT_HEAD_CHUNK_BYTES + "-byte chunk");
    }
    this.headChunkRows = rows;
  }

  /**
   * Knowledge distillation (default none): from the next forward on, the loss and its gradients are
   * {@code alpha * tau^2 * KL(teacher || student) + (1 - alpha) * CE} with the teacher's
   * distribution of {@code targets} (see {@link SoftTargets}), whose teacher logits must be those of
   * the rows of each forward (checked by row count). Null restores the plain cross-entropy. The
   * soft targets are the caller's: this model neither fills nor closes them.
   */
  public void setSoftTargets(SoftTargets targets) {
    this.softTargets = targets;
  }

  /**
   * Logits [B*T, V] of the last forward, a view valid until the next forward or backward. Only
   * when one head chunk covers the batch (B*T at most the head's chunk rows): a chunked head never
   * holds all logits.
   */
  public INDArray logits() {
    if (acts == null) {
      throw new IllegalStateException("no forward has run yet; call forward(...) before logits()");
    }
    INDArray logits = acts.head.allLogits();
    if (logits == null) {
      throw new IllegalStateException("the logits of all " + ((long) acts.batch * acts.seqLen) + " positions are"
          + " not held: the head runs in chunks of " + acts.head.chunkRows() + " rows, or backward has used them;"
          + " call setHeadChunkRows(B*T) before forward, and read logits() before backward()");
    }
    return logits;
  }

  /** Off-heap bytes of the activations currently allocated (0 before the first forward). */
  public long activationBytes() {
    return acts == null ? 0 : acts.bytes();
  }

  /** Forward with {@code int[B][T]} arrays; see {@link #forward(int[], int[], int, int)}. */
  public double forward(int[][] inputs, int[][] targets) {
    int b = inputs.length;
    int t = b == 0 ? 0 : inputs[0].length;
    return forward(flatten("inputs", inputs, t), targets == null ? null : flatten("targets", targets, t), b, t);
  }

  /**
   * Runs the model on a batch, without dropout (evaluation, and training with dropout 0).
   *
   * @param inputs  B*T token ids, row-major [B, T], each in [0, V)
   * @param targets B*T target ids in [0, V) or the ignore index; null to skip the loss
   * @param batch   B
   * @param seqLen  T, at most the context length
   * @return the mean cross-entropy over non-ignored targets, or NaN when targets is null
   */
  public double forward(int[] inputs, int[] targets, int batch, int seqLen) {
    return forward(inputs, targets, batch, seqLen, null);
  }

  /**
   * A training forward: as {@link #forward(int[], int[], int, int)}, with the config's dropout on
   * the embeddings, the attention probabilities and each residual branch (none when it is 0, the
   * default, or when {@code dropoutKey} is null). Masks depend only on the key (seed, step, each
   * row's sample index) and each element's place, so backward, activation recomputation and
   * another split of the same samples over ranks all see the same masks.
   *
   * @param dropoutKey the masks' key, its samples one per row; null for no dropout
   */
  public double forward(int[] inputs, int[] targets, int batch, int seqLen, DropoutKey dropoutKey) {
    validate(inputs, targets, batch, seqLen);
    TransformerDropout drop = TransformerDropout.of(config.dropout(), dropoutKey, batch, seqLen, config.heads());
    if (acts == null || !acts.fits(batch, seqLen, params.dataType(), recompute, headChunkRows)) {
      if (acts != null) {
        acts.close();
      }
      acts = new GptActivations(config, batch, seqLen, params.dataType(), recompute, headChunkRows);
    }
    GptActivations a = acts;
    TransformerActivations x = a.trunk;
    a.tokens.data().setData(inputs);
    Encoder.forward(x.encoded, a.tokens, params.view("wte.weight"), params.view("wpe.weight"), batch, seqLen, 0);
    if (drop.active()) {
      Dropout.forward(x.encoded, x.encoded, drop.embeddings());
    }
    trunk.forward(x, a.mask, drop, batch, seqLen);
    this.dropout = drop;
    this.targets = targets;
    this.backwardReady = targets != null;
    SoftTargets soft = targets == null ? null : softTargets;
    if (soft != null && soft.rows() != (long) batch * seqLen) {
      throw new IllegalStateException("the soft targets hold teacher logits of " + soft.rows() + " rows, but this"
          + " forward has B*T=" + ((long) batch * seqLen) + "; call SoftTargets.setTeacherLogits with the teacher's"
          + " logits of these rows before each forward");
    }
    a.head.softTargets(soft);
    return a.head.forward(x.lnf, params.view("wte.weight"), targets, ignoreIndex);
  }

  /**
   * Accumulates d(loss)/d(parameters) of the last forward into {@link #grads()}, calling the layers
   * in exactly the reverse order of forward.
   */
  @Override
  public void backward() {
    backward(null);
  }

  /**
   * As {@link #backward()}, telling {@code listener} (if not null) each time a range of the flat
   * gradient buffer is final: ln_f first, then each block from the last to the first, then the
   * embeddings (wte, whose tied LM-head gradient is completed by the embedding's backward, and wpe).
   * A data-parallel trainer all-reduces those ranges while backward goes on.
   */
  @Override
  public void backward(GradientListener listener) {
    GradientListener ready = listener == null ? (from, to) -> { } : listener;
    if (!backwardReady) {
      throw new IllegalStateException("backward() needs a forward with targets first, and runs once per forward;"
          + " call forward(inputs, targets, B, T) with non-null targets, then backward()");
    }
    backwardReady = false;
    boolean frozen = trunk.frozen();
    ParameterBuffer g = frozen ? null : grads();
    GptActivations a = acts;
    TransformerActivations x = a.trunk;
    int batch = a.batch;
    int seqLen = a.seqLen;
    INDArray dwte = frozen ? null : g.view("wte.weight");

    a.head.backward(x.scratch.dln, dwte, x.lnf, params.view("wte.weight"), targets, ignoreIndex);
    trunk.backward(g, x, a.mask, dropout, ready, batch, seqLen);
    if (!frozen) { // the embeddings' backward computes only their weight gradients
      if (dropout.active()) {
        Dropout.backward(x.dresidual, x.dresidual, dropout.embeddings());
      }
      Encoder.backward(dwte, g.view("wpe.weight"), x.dresidual, a.tokens, x.ones, batch, seqLen);
    }
    ready.ready(0, embeddingsEnd);
  }

  /** Frees parameters, gradients and activations now. */
  @Override
  public void close() {
    if (acts != null) {
      acts.close();
      acts = null;
    }
    if (grads != null) {
      grads.close();
    }
    params.close();
  }

  private void validate(int[] inputs, int[] targets, int batch, int seqLen) {
    if (batch <= 0 || seqLen <= 0 || seqLen > config.contextLength()) {
      throw new IllegalArgumentException("batch must be > 0 and seqLen in [1, " + config.contextLength()
          + "], but found batch=" + batch + ", seqLen=" + seqLen + "; cut sequences to the context length");
    }
    long n = (long) batch * seqLen;
    if (inputs == null || inputs.length != n || (targets != null && targets.length != n)) {
      throw new IllegalArgumentException("inputs and targets must hold batch*seqLen=" + n + " ids, but found "
          + (inputs == null ? "null" : inputs.length) + " inputs and "
          + (targets == null ? "no" : String.valueOf(targets.length)) + " targets");
    }
    int v = config.vocabSize();
    for (int i = 0; i < inputs.length; i++) {
      if (inputs[i] < 0 || inputs[i] >= v) {
        throw new IllegalArgumentException("input token ids must be in [0, " + v + "), but found inputs[" + i
            + "]=" + inputs[i] + "; check the tokenizer's vocabulary against ModelConfig.vocabSize");
      }
      if (targets != null && targets[i] != ignoreIndex && (targets[i] < 0 || targets[i] >= v)) {
        throw new IllegalArgumentException("target ids must be in [0, " + v + ") or the ignore index "
            + ignoreIndex + ", but found targets[" + i + "]=" + targets[i]);
      }
    }
  }

  private static int[] flatten(String what, int[][] rows, int seqLen) {
    int[] flat = new int[rows.length * seqLen];
    for (int b = 0; b < rows.length; b++) {
      if (rows[b].length != seqLen) {
        throw new IllegalArgumentException(what + " rows must all have length " + seqLen + ", but row " + b
            + " has " + rows[b].length);
      }
      System.arraycopy(rows[b], 0, flat, b * seqLen, seqLen);
    }
    return flat;
  }
}
