/*
 * SoftTargets: a frozen teacher's distribution over the next token at every position of one batch,
 * and how much the GPT's loss weighs it: the knowledge-distillation objective
 *   loss = alpha * tau^2 * KL(softmax(teacher / tau) || softmax(student / tau)) + (1 - alpha) * CE
 * (Hinton et al. 2015; the tau^2 keeps the soft term's gradient on the scale of the hard one's as
 * tau changes). ChunkedLmHead adds the term chunk by chunk beside the cross-entropy. It holds the
 * teacher's [B*T, V] log-probabilities and probabilities and one [R, V] scratch; it does not run the
 * teacher (the caller does, and passes its logits) and never touches the teacher's parameters.
 */
package org.ringtrain.ops.gpt;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.ops.layers.SoftTargetKl;

/**
 * The soft targets of one batch for {@link GptModel#setSoftTargets}. Use: {@link #setTeacherLogits}
 * with the teacher's logits of exactly the rows the student's next forward sees, then the
 * student's forward and backward. With {@code alpha = 0} the term is not computed at all, so the
 * loss and gradients are the cross-entropy's bit for bit.
 *
 * <p>Memory: {@code 2 B T V} floats for the teacher's side plus {@code R V} of scratch, allocated on
 * the first batch and reused while the shape stays (V 256, B*T 2048: 6 MiB; at V 50257 this is
 * 0.8 GiB, so keep B*T small there). Not thread-safe: one per rank thread.
 */
public final class SoftTargets implements AutoCloseable {

  private final double alpha;
  private final double temperature;
  private INDArray teacherLogProbs; // [B*T, V]
  private INDArray teacherProbs; // [B*T, V]
  private INDArray scratch; // [R, V]
  private long rows = -1; // B*T of the teacher logits set last

  /**
   * @param alpha       weight of the soft term in [0, 1]; 1 - alpha weighs the cross-entropy
   * @param temperature tau, > 0 and finite; 1 compares the plain distributions, larger values soften both
   */
  public SoftTargets(double alpha, double temperature) {
    if (!(alpha >= 0 && alpha <= 1)) {
      throw new IllegalArgumentException("alpha must be in [0, 1], but found " + alpha
          + "; 0 is plain training, 0.5 weighs the teacher and the data equally");
    }
    if (!(temperature > 0 && Double.isFinite(temperature))) {
      throw new IllegalArgumentException("temperature must be > 0 and finite, but found " + temperature
          + "; 1 compares the plain distributions, 2 is usual for distillation");
    }
    this.alpha = alpha;
    this.temperature = temperature;
  }

  /** The soft term's weight alpha. */
  public double alpha() {
    return alpha;
  }

  /** The temperature tau. */
  public double temperature() {
    return temperature;
  }

  /** Whether the soft term counts at all (alpha > 0). */
  boolean active() {
    return alpha > 0;
  }

  /** Rows B*T of the teacher logits set last; -1 before the first. */
  long rows() {
    return rows;
  }

  /**
   * The teacher's logits of the next batch: computes and keeps its softened distribution (the
   * logits are not kept; they may be a view the teacher overwrites next).
   *
   * @param teacherLogits [B*T, V] float32 or float64, as the student's parameters
   */
  public void setTeacherLogits(INDArray teacherLogits) {
    long n = teacherLogits.size(0);
    long v = teacherLogits.size(1);
    DataType type = teacherLogits.dataType();
    if (teacherLogProbs == null || teacherLogProbs.size(0) != n || teacherLogProbs.size(1) != v
        || teacherLogProbs.dataType() != type) {
      teacherLogProbs = Nd4j.create(type, n, v);
      teacherProbs = Nd4j.create(type, n, v);
    }
    rows = n;
    if (active()) {
      SoftTargetKl.teacherForward(teacherLogProbs, teacherProbs, teacherLogits, temperature);
    }
  }

  /**
   * The chunk's loss: {@code (1 - alpha) * ceSum + alpha * tau^2 * KL sum} over rows
   * {@code [from, from + n)} of the batch; {@code ceSum} unchanged when the term is off.
   */
  double mix(double ceSum, INDArray logits, long from, int n, int[] targets, int ignoreIndex) {
    if (!active()) {
      return ceSum;
    }
    double kl = SoftTargetKl.forwardSum(scratch(logits, n), logits, teacher(teacherLogProbs, from, n),
        teacher(teacherProbs, from, n), targets, ignoreIndex, temperature);
    return (1 - alpha) * ceSum + alpha * temperature * temperature * kl;
  }

  /** The cross-entropy's share of the gradient scale: 1 - alpha, or exactly 1 when the term is off. */
  double hardWeight() {
    return active() ? 1 - alpha : 1.0;
  }

  /**
   * The soft term's gradient of chunk rows {@code [from, from + n)} into the scratch; call it while
   * {@code logits} still holds the chunk's logits, then {@link #addGradient} once they hold the
   * cross-entropy's gradient.
   *
   * @param batchScale 1 / kept rows of the whole batch
   */
  void prepareGradient(INDArray logits, long from, int n, int[] targets, int ignoreIndex, double batchScale) {
    if (active()) {
      SoftTargetKl.backward(scratch(logits, n), logits, teacher(teacherProbs, from, n), targets, ignoreIndex,
          temperature, alpha * temperature * temperature * batchScale);
    }
  }

  /** {@code dlogits += } the gradient {@link #prepareGradient} left in the scratch. */
  void addGradient(INDArray dlogits, int n) {
    if (active()) {
      dlogits.addi(scratch(dlogits, n));
    }
  }

  /** Frees the arrays now. */
  @Override
  public void close() {
    for (INDArray a : new INDArray[] {teacherLogProbs, teacherProbs, scratch}) {
      if (a != null && !a.wasClosed()) {
        a.close();
      }
    }
    teacherLogProbs = null;
    teacherProbs = null;
    scratch = null;
    rows = -1;
  }

  /** The first {@code n} rows of the scratch, (re)allocated to fit a chunk shaped like {@code like}. */
  private INDArray scratch(INDArray like, int n) {
    long r = like.size(0);
    long v = like.size(1);
    if (scratch == null || scratch.size(0) < r || scratch.size(1) != v || scratch.dataType() != like.dataType()) {
      scratch = Nd4j.create(like.dataType(), Math.max(r, n), v);
    }
    return n == scratch.size(0) ? scratch : scratch.get(NDArrayIndex.interval(0, n), NDArrayIndex.all());
  }

  private static INDArray teacher(INDArray all, long from, int n) {
    return from == 0 && n == all.size(0) ? all : all.get(NDArrayIndex.interval(from, from + n), NDArrayIndex.all());
  }
}
