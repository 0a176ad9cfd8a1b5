// Knowledge distillation of a GPT: a trained teacher checkpoint plus a smaller student TrainConfig
// give a student trained data-parallel through the same barrier stage, ring and checkpoints as
// `train` (DataParallelTrainer with the GPT recipe and a frozen Teacher). The teacher's weights are
// read once on the driver and broadcast once; each rank runs the teacher's forward on its own
// micro-batch. The student's checkpoints are ordinary GPT checkpoints (its TrainConfig as config),
// so generate, evaluate and quantize read them as any other. It does not train the teacher.
package org.ringtrain.driver.gpt;

import java.io.IOException;
import java.util.Optional;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.ringtrain.driver.checkpoint.CheckpointStore;
import org.ringtrain.driver.checkpoint.TrainingState;
import org.ringtrain.driver.data.TrainingData;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.launch.SparkJob;
import org.ringtrain.driver.tokenize.Tokenizer;
import org.ringtrain.driver.train.DataParallelTrainer;
import org.ringtrain.driver.train.TrainingResult;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Distils a trained GPT into a student: {@code new GptDistiller(student, distill).fit(job, data)}
 * trains the student of {@code student} on {@code alpha * tau^2 * KL(teacher || student) +
 * (1 - alpha) * CE} and returns it as a {@link TrainedGpt}. Call {@link #preflight} before Spark
 * starts: it refuses a teacher with another tokenizer or a shorter context.
 */
public final class GptDistiller {
  private static final Logger LOG = LoggerFactory.getLogger(GptDistiller.class);

  private final TrainConfig student;
  private final DistillSettings distill;
  private final DataParallelTrainer trainer;

  /** A distiller of the student {@code student} from the teacher and loss weights of {@code distill}. */
  public GptDistiller(TrainConfig student, DistillSettings distill) {
    this.student = student;
    this.distill = distill;
    this.trainer = new DataParallelTrainer(student.loop());
  }

  /**
   * What {@link #preflight} found: the teacher checkpoint's step and tokenizer, and both models'
   * parameter counts.
   */
  public record TeacherCheck(String teacherDir, long step, String tokenizerId, ModelConfig teacher,
      long teacherParameters, long studentParameters) {

    /** Student parameters as a fraction of the teacher's. */
    public double parameterRatio() {
      return (double) studentParameters / teacherParameters;
    }
  }

  /**
   * Checks, before Spark starts, that the teacher directory holds a valid checkpoint whose
   * tokenizer is the student's (distillation compares the two next-token distributions token by
   * token) and whose context is at least the student's (the teacher reads the student's windows).
   *
   * @throws IllegalArgumentException naming both sides and what to do when any check fails
   * @throws IOException              from the file system
   */
  public static TeacherCheck preflight(TrainConfig student, DistillSettings distill, HadoopSettings hadoop)
      throws IOException {
    Optional<TrainingState> found = new CheckpointStore(hadoop, distill.teacher()).latestState();
    TrainingState state = found.orElseThrow(() -> new IllegalArgumentException("the teacher directory "
        + distill.teacher() + " holds no valid checkpoint; train the teacher first (ringtrain train ..."
        + " --checkpoint-dir " + distill.teacher() + ") or give another --teacher"));
    String studentTokenizer = student.tokenizer().id();
    Tokenizer studentVocab = student.tokenizer().tokenizer();
    if (!state.tokenizerId().equals(studentTokenizer)) {
      throw new IllegalArgumentException("the teacher in " + distill.teacher() + " (step " + state.step()
          + ") uses tokenizer " + state.tokenizerId() + ", but the student's is " + studentTokenizer + " (vocab "
          + studentVocab.vocabSize() + "); distillation matches the two models' next-token distributions token by"
          + " token, so both need one tokenizer: set tokenizer=" + state.tokenizerId() + " for the student, or"
          + " give a teacher trained with " + studentTokenizer);
    }
    ModelConfig teacher = TrainConfig.fromJson(state.configJson()).modelConfig(studentVocab.vocabSize());
    if (teacher.contextLength() < student.contextLength()) {
      throw new IllegalArgumentException("the student's contextLength " + student.contextLength() + " is longer"
          + " than the teacher's " + teacher.contextLength() + " (" + distill.teacher() + "); the teacher must see"
          + " each student window whole: use contextLength <= " + teacher.contextLength());
    }
    long teacherParams = GptModel.layout(teacher).totalElements();
    long studentParams = GptModel.layout(student.modelConfig(studentVocab.vocabSize())).totalElements();
    return new TeacherCheck(distill.teacher(), state.step(), studentTokenizer, teacher, teacherParams, studentParams);
  }

  /** Distils on data prepared by {@link org.ringtrain.driver.data.CorpusLoader}, in the Spark application of a job. */
  public TrainedGpt fit(SparkJob job, TrainingData data) throws IOException {
    TrainingPreflight.checkLoaded(student, data);
    return fit(job.sparkContext(), data.train(), data.validation(), data.tokenizer().id(),
        data.tokenizer().vocabSize());
  }

  /**
   * Distils on sequences of {@code contextLength + 1} token ids (as {@link GptTrainer#fit}): reads
   * the teacher's newest valid checkpoint on the driver, checks it against the data's tokenizer,
   * broadcasts its weights once, trains, and returns the student of this run's final checkpoint.
   */
  public TrainedGpt fit(JavaSparkContext sc, JavaRDD<int[]> train, JavaRDD<int[]> validation,
      String tokenizerId, int vocabSize) throws IOException {
    HadoopSettings hadoop = HadoopSettings.of(sc);
    TrainedGpt teacher = TrainedGpt.load(distill.teacher(), hadoop);
    if (!teacher.tokenizer().id().equals(tokenizerId)) {
      throw new IllegalArgumentException("the teacher " + teacher.checkpoint() + " uses tokenizer "
          + teacher.tokenizer().id() + ", but the data was tokenised with " + tokenizerId
          + "; tokenise the corpus with " + teacher.tokenizer().id() + " or give a teacher trained with " + tokenizerId);
    }
    LOG.info("teacher: {} (step {}, {}), alpha {}, temperature {}", teacher.checkpoint(), teacher.step(),
        teacher.modelConfig(), distill.alpha(), distill.temperature());
    Broadcast<float[]> weights = sc.broadcast(teacher.weights());
    try {
      Teacher.Source source = new Teacher.Source(teacher.modelConfig(), weights, distill.alpha(),
          distill.temperature());
      GptRecipe recipe = new GptRecipe(BaseWeights.resolve(student, vocabSize), vocabSize, source);
      TrainingResult run = trainer.fit(sc, recipe, train, validation, tokenizerId);
      return TrainedGpt.of(run, recipe.layout(), hadoop);
    } finally {
      weights.destroy();
    }
  }
}
