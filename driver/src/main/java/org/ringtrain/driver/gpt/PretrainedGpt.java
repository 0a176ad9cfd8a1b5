/*
 * PretrainedGpt: the one place that turns "a path" into a float32 GPT to start from, for every
 * option that takes one (the classifier's `backbone`, the fine-tune story's --pretrained, ...). It
 * tells the three accepted kinds apart - a GPT run's checkpoint directory, a directory `ringtrain
 * export` wrote, a GPT-2 safetensors file with its config.json beside it - reads the model through
 * TrainedGpt, and refuses anything else with one message naming the option, what was found, the
 * three kinds and what to do. It does not check the model against what the caller needs (shape,
 * tokenizer): callers do. It does not read int8 files as float32 models (QuantizedGpt serves those).
 */
package org.ringtrain.driver.gpt;

import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.ringtrain.driver.checkpoint.CheckpointFormat;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.ops.io.SafetensorsException;
import org.ringtrain.ops.io.TensorFile;

/**
 * A pretrained GPT read from a path, and which kind of path it was.
 *
 * @param model the model: its weights, shape, tokenizer and {@link TrainedGpt#checkpoint() source}
 * @param kind  what the path was
 */
public record PretrainedGpt(TrainedGpt model, Kind kind) {

  /** The three kinds of path {@link #open} accepts, as its refusals list them. */
  public static final String ACCEPTED = "the checkpoint directory of a GPT run (`ringtrain train --checkpoint-dir`),"
      + " a directory `ringtrain export` wrote (model.safetensors with its config.json) or a GPT-2 safetensors file"
      + " with its config.json beside it";

  /** What a path given to {@link #open} turned out to be. */
  public enum Kind {
    /** A GPT run's checkpoint directory: its newest valid checkpoint was read. */
    CHECKPOINT_DIRECTORY,
    /** A directory holding {@code model.safetensors} (and config.json), as {@code ringtrain export} writes it. */
    EXPORT_DIRECTORY,
    /** A GPT-2 safetensors file in Hugging Face form, its config.json beside it. */
    GPT2_FILE
  }

  /**
   * Reads the GPT at {@code path}. A directory holding {@code model.safetensors} is an export and
   * that file is read; any other directory is a GPT run's checkpoint directory, on any Hadoop
   * FileSystem, whose newest valid checkpoint is read (corrupt ones are skipped, a LoRA run's
   * adapters are merged); a file is a GPT-2 safetensors file, read from the driver's local disk
   * with its config.json beside it.
   *
   * @param path   the path as the user gave it (a URI or a local path)
   * @param option how the caller's user names the path, e.g. {@code backbone} or {@code --pretrained}:
   *               every refusal starts with it
   * @throws IllegalArgumentException when the path does not exist, is none of the three kinds, is
   *                                  an int8 model or is a file on a non-local filesystem, saying
   *                                  what was found and what to give instead
   * @throws IOException              when reading fails
   */
  public static PretrainedGpt open(String path, HadoopSettings hadoop, String option) throws IOException {
    Path p = new Path(path);
    FileSystem fs = hadoop.fs(p);
    FileStatus status;
    try {
      status = fs.getFileStatus(p);
    } catch (FileNotFoundException e) {
      throw new IllegalArgumentException(option + " " + path + " does not exist; expected " + ACCEPTED
          + "; check the path", e);
    }
    Path exported = new Path(p, CheckpointFormat.MODEL_FILE);
    if (status.isDirectory() && !fs.isFile(exported)) {
      try {
        return new PretrainedGpt(TrainedGpt.load(path, hadoop), Kind.CHECKPOINT_DIRECTORY);
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new IllegalArgumentException(option + " " + path + " is a directory but holds no GPT checkpoint to"
            + " start from and no " + CheckpointFormat.MODEL_FILE + ": " + e.getMessage() + ". Expected " + ACCEPTED
            + "; give one of those (a classifier's checkpoints are not a GPT's)", e);
      }
    }
    Kind kind = status.isDirectory() ? Kind.EXPORT_DIRECTORY : Kind.GPT2_FILE;
    Path file = status.isDirectory() ? exported : p;
    if (!(fs instanceof LocalFileSystem) && !"file".equals(fs.getScheme())) {
      throw new IllegalArgumentException(option + " " + path + " is a GPT-2 file on " + fs.getScheme() + ", but GPT-2"
          + " safetensors files are read from the driver's local disk; copy it (and its config.json) there, or give"
          + " a GPT run's checkpoint directory");
    }
    refuseInt8(fs, file, option + " " + path);
    String local = new File(fs.makeQualified(file).toUri().getPath()).getPath();
    try {
      return new PretrainedGpt(TrainedGpt.fromWeights(local), kind);
    } catch (IllegalArgumentException | IllegalStateException | SafetensorsException e) {
      throw new IllegalArgumentException(option + " " + path + " is not a GPT-2 file this version reads: "
          + e.getMessage() + ". Expected " + ACCEPTED, e);
    }
  }

  /**
   * The local GPT-2 safetensors file the model was read from (for an export directory, its
   * model.safetensors); empty for a checkpoint directory, whose weights are no GPT-2 file.
   */
  public Optional<java.nio.file.Path> file() {
    return kind == Kind.CHECKPOINT_DIRECTORY ? Optional.empty() : Optional.of(java.nio.file.Path.of(model.checkpoint()));
  }

  /**
   * Refuses an int8 file from {@code ringtrain quantize}: its weights are no float32 GPT to start
   * from. A file that is not safetensors at all is left to the GPT-2 reader, whose message says why.
   */
  private static void refuseInt8(FileSystem fs, Path file, String given) throws IOException {
    Map<String, String> meta;
    try {
      meta = QuantizedGpt.headerMetadata(fs, file, file.toString());
    } catch (SafetensorsException e) {
      return;
    }
    if (meta.containsKey(TensorFile.QUANTIZATION_KEY)) {
      throw new IllegalArgumentException(given + " is an int8 model (quantisation "
          + meta.get(TensorFile.QUANTIZATION_KEY) + ") from `ringtrain quantize`, which serves inference only;"
          + " start from the float32 run it was quantised from"
          + Optional.ofNullable(meta.get(QuantizedGpt.SOURCE_KEY)).map(s -> " (checkpoint " + s + ")").orElse("")
          + ": give " + ACCEPTED);
    }
  }
}
