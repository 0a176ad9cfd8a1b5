/*
 * CheckpointFormat: the names, magic and version of ringtrain's checkpoint directory format, in
 * one place for the writer, the reader and the store. It does no I/O.
 */
package org.ringtrain.driver.checkpoint;

import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The checkpoint directory format, version {@value #FORMAT_VERSION}.
 *
 * <pre>
 * &lt;dir&gt;/step-000000100/          one checkpoint; the step zero-padded to at least 9 digits
 *   model.safetensors            weights, Hugging Face GPT-2 names and shapes, float32; metadata holds
 *                                ringtrain.step, ringtrain.tokenizer_id and ringtrain.model_config
 *   optimizer.bin                optimizer state (org.ringtrain.ops.optim.OptimizerStateWriter format)
 *   state.json                   {"magic","formatVersion","step","epoch","cursor","rngSeed",
 *                                 "tokenizerId","configJson","globalBatch"}
 *   MANIFEST.json                written last: {"magic","formatVersion","step","runId",
 *                                 "files":[{"name","size","sha256"}...]} for the three files above
 *
 * With optimizerSharding (format version {@value #SHARDED_FORMAT_VERSION}, the manifest's version only):
 *   optimizer.bin                AdamW's hyper-parameters only (0 steps, no buffers)
 *   optimizer-rank-00001-of-00004.bin   one per rank, written by that rank in parallel: the step
 *                                count, the rank's owned ranges and their m and v
 *                                ({@link OptimizerSlice}); listed in the manifest like every file
 * &lt;dir&gt;/step-000000200.tmp-&lt;uuid&gt;/ a checkpoint being written (or left by a crashed writer); ignored
 * &lt;dir&gt;/step-000000200.tmp-&lt;runId&gt;-sharded/ a sharded checkpoint being written by every rank
 * &lt;dir&gt;/LEASE.json                 the lease of the run writing here ({@link CheckpointLease})
 * </pre>
 *
 * <p>{@code runId} names the fit that wrote the checkpoint. It was added to version 1 without a
 * version bump: it is optional on read (checkpoints written before it have none, and readers
 * ignore fields they do not know), so old and new checkpoints stay readable by both.
 *
 * <p>{@code globalBatch} (rows per step across all ranks; {@code cursor} then counts rows of the
 * epoch's global order) was added the same way: a state.json without it reads as 0, a checkpoint
 * whose {@code cursor} counts one rank's rows.
 *
 * <p>A directory named {@code step-N} without a MANIFEST.json is partial. Both JSON files carry the
 * magic {@value #MAGIC} and the format version, so a reader can refuse versions it does not know.
 */
public final class CheckpointFormat {

  /** The magic string of state.json and MANIFEST.json. */
  public static final String MAGIC = "ringtrain-checkpoint";

  /** The format version this build writes; readers refuse any version they do not know. */
  public static final int FORMAT_VERSION = 1;

  /**
   * The manifest version of a checkpoint whose optimizer state is in per-rank slices; builds that
   * know only version 1 refuse it rather than load hyper-parameters without moments.
   */
  public static final int SHARDED_FORMAT_VERSION = 2;

  /** File name of the weights. */
  public static final String MODEL_FILE = "model.safetensors";

  /** File name of the optimizer state. */
  public static final String OPTIMIZER_FILE = "optimizer.bin";

  /** File name of the training state. */
  public static final String STATE_FILE = "state.json";

  /** File name of the manifest, written after every other file. */
  public static final String MANIFEST_FILE = "MANIFEST.json";

  /** The files a manifest of version 1 must list, in the order they are written. */
  public static final List<String> DATA_FILES = List.of(MODEL_FILE, OPTIMIZER_FILE, STATE_FILE);

  /** Safetensors metadata key of the training step. */
  public static final String STEP_METADATA_KEY = "ringtrain.step";

  /** Safetensors metadata key of the tokenizer id. */
  public static final String TOKENIZER_METADATA_KEY = "ringtrain.tokenizer_id";

  /** File name of the directory's lease, beside the checkpoints. */
  public static final String LEASE_FILE = "LEASE.json";

  /** Infix of directories still being written: {@code step-N.tmp-<uuid>}. */
  static final String TMP_INFIX = ".tmp-";

  private static final String PREFIX = "step-";
  private static final Pattern SLICE = Pattern.compile("optimizer-rank-(\\d{5})-of-(\\d{5})\\.bin");
  private static final Pattern COMPLETE = Pattern.compile("step-(\\d{1,18})");
  private static final Pattern TMP = Pattern.compile("step-\\d{1,18}\\.tmp-.+");

  private CheckpointFormat() {
  }

  /** The directory name of the checkpoint of {@code step}: {@code step-%09d}. */
  public static String directoryName(long step) {
    return String.format("%s%09d", PREFIX, step);
  }

  /** File name of rank {@code rank}'s optimizer slice in a checkpoint written by {@code worldSize} ranks. */
  public static String optimizerSliceName(int rank, int worldSize) {
    return String.format("optimizer-rank-%05d-of-%05d.bin", rank, worldSize);
  }

  /** {rank, worldSize} of an optimizer slice's file name, or null if {@code name} is not one. */
  static int[] sliceOf(String name) {
    Matcher m = SLICE.matcher(name);
    return m.matches() ? new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))} : null;
  }

  /** The step of a checkpoint directory name, or empty if {@code name} is not {@code step-<digits>}. */
  static OptionalLong stepOf(String name) {
    Matcher m = COMPLETE.matcher(name);
    return m.matches() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
  }

  /** Whether {@code name} is a temporary directory of a write in progress or a crashed one. */
  static boolean isTemporary(String name) {
    return TMP.matcher(name).matches();
  }
}
