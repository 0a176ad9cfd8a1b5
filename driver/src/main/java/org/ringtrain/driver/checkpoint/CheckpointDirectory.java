/*
 * CheckpointDirectory: the mechanics of one checkpoint directory on a Hadoop FileSystem: listing
 * its step-N directories, publishing a finished temporary directory by rename, and deleting
 * leftovers and checkpoints beyond the retention count, which counts only checkpoints that verify.
 * It does not write checkpoint files and holds no configuration: CheckpointStore drives it.
 */
package org.ringtrain.driver.checkpoint;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalLong;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Listing, publishing and pruning of the {@code step-N} directories under one qualified path. */
final class CheckpointDirectory {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointDirectory.class);

  private final FileSystem fs;
  private final Path root;
  /** Checkpoints already read back and found intact: path to the fingerprint of their files then. */
  private final Map<String, String> verified = new ConcurrentHashMap<>();

  CheckpointDirectory(FileSystem fs, Path root) {
    this.fs = fs;
    this.root = root;
  }

  /** A {@code step-N} directory, complete or not. */
  record StepDir(long step, Path path) {
  }

  /** Directories named {@code step-N}, complete or not, oldest first; empty if the root does not exist. */
  List<StepDir> stepDirs() throws IOException {
    FileStatus[] entries;
    try {
      entries = fs.listStatus(root);
    } catch (FileNotFoundException e) {
      return Collections.emptyList();
    }
    List<StepDir> dirs = new ArrayList<>();
    for (FileStatus s : entries) {
      OptionalLong step = CheckpointFormat.stepOf(s.getPath().getName());
      if (s.isDirectory() && step.isPresent()) {
        dirs.add(new StepDir(step.getAsLong(), s.getPath()));
      }
    }
    dirs.sort(Comparator.comparingLong(StepDir::step));
    return dirs;
  }

  /** Whether a checkpoint directory has its manifest, which its writer writes last. */
  boolean isComplete(Path checkpointDir) throws IOException {
    return fs.exists(new Path(checkpointDir, CheckpointFormat.MANIFEST_FILE));
  }

  /** Renames {@code tmp} to {@code target}, moving an existing target aside first and deleting it after. */
  void publish(Path tmp, Path target) throws IOException {
    verified.remove(target.toString());
    Path replaced = null;
    if (fs.exists(target)) {
      // Renaming onto an existing directory would move tmp inside it. A temporary name for the old
      // one means a crash between the two renames leaves only temporary directories at this step.
      replaced = new Path(target.getParent(), target.getName() + CheckpointFormat.TMP_INFIX + "replaced-"
          + UUID.randomUUID());
      if (!fs.rename(target, replaced)) {
        throw new IOException("could not move the existing checkpoint " + target + " aside to " + replaced
            + " (rename returned false)");
      }
      LOG.warn("replacing existing checkpoint {} with a new one of the same step", target);
    }
    if (!fs.rename(tmp, target)) {
      if (replaced != null && !fs.rename(replaced, target)) {
        LOG.warn("could not move {} back to {} after the failed rename", replaced, target);
      }
      throw new IOException("could not rename the finished checkpoint " + tmp + " to " + target
          + " (rename returned false); check the directory's permissions and free space");
    }
    if (replaced != null) {
      deleteQuietly(replaced);
    }
  }

  /**
   * Deletes leftover temporary directories, partial or corrupt checkpoints older than
   * {@code writtenStep}, and verified checkpoints up to {@code writtenStep} beyond the newest
   * {@code keepLast}. Only checkpoints that verify count towards {@code keepLast}, so the newest
   * verified one always stays, however many newer ones are corrupt. A checkpoint that cannot be
   * judged (an I/O error, a format this build does not know) is neither counted nor deleted. Newer
   * checkpoints are left alone with a warning. Never throws: failures are logged.
   */
  void cleanUp(long writtenStep, int keepLast) {
    try {
      for (FileStatus s : fs.listStatus(root)) {
        if (s.isDirectory() && CheckpointFormat.isTemporary(s.getPath().getName())) {
          LOG.info("deleting leftover temporary checkpoint directory {}", s.getPath());
          deleteQuietly(s.getPath());
        }
      }
      int kept = 0;
      List<StepDir> dirs = stepDirs();
      for (int i = dirs.size() - 1; i >= 0; i--) {
        StepDir s = dirs.get(i);
        if (s.step() > writtenStep) {
          LOG.warn("{} is newer than the checkpoint just written (step {}) and would be loaded first on resume; "
              + "left alone: delete it if it belongs to an abandoned run", s.path(), writtenStep);
          continue;
        }
        if (!isComplete(s.path())) {
          if (s.step() < writtenStep) {
            LOG.info("deleting partial checkpoint {} (no manifest)", s.path());
            deleteQuietly(s.path());
          }
          continue;
        }
        switch (verify(s.path())) {
          case VERIFIED -> {
            if (kept < keepLast) {
              kept++;
            } else {
              LOG.info("deleting old checkpoint {} (keeping the newest {} that verify)", s.path(), keepLast);
              deleteQuietly(s.path());
            }
          }
          case CORRUPT -> {
            if (s.step() < writtenStep) {
              LOG.warn("deleting corrupt checkpoint {}: it can never be loaded (reason above)", s.path());
              deleteQuietly(s.path());
            } else {
              LOG.warn("the checkpoint just written, {}, does not verify (reason above); a resume falls back to "
                  + "the previous one", s.path());
            }
          }
          default -> LOG.warn("{} could not be verified (reason above); neither counted nor deleted", s.path());
        }
      }
    } catch (IOException e) {
      LOG.warn("could not clean up checkpoint directory {}: {}", root, e.toString());
    }
  }

  /** What reading a checkpoint back found. */
  enum Verdict { VERIFIED, CORRUPT, UNKNOWN }

  /**
   * Reads a checkpoint's files back against its manifest (sizes and SHA-256). A verified checkpoint
   * is remembered with the names, sizes and modification times of its files, so an unchanged one
   * is read back once per run, and one written to since is read again.
   */
  Verdict verify(Path checkpointDir) {
    String key = checkpointDir.toString();
    try {
      String fingerprint = fingerprint(checkpointDir);
      if (fingerprint.equals(verified.get(key))) {
        return Verdict.VERIFIED;
      }
      new CheckpointReader(fs).readState(checkpointDir);
      verified.put(key, fingerprint);
      return Verdict.VERIFIED;
    } catch (CorruptCheckpointException e) {
      LOG.warn("checkpoint {} does not verify: {}", checkpointDir, e.getMessage());
      return Verdict.CORRUPT;
    } catch (IOException e) {
      LOG.warn("could not verify checkpoint {}: {}", checkpointDir, e.toString());
      return Verdict.UNKNOWN;
    }
  }

  private String fingerprint(Path checkpointDir) throws IOException {
    StringBuilder b = new StringBuilder();
    for (FileStatus f : fs.listStatus(checkpointDir)) {
      b.append(f.getPath().getName()).append(':').append(f.getLen()).append(':').append(f.getModificationTime())
          .append(';');
    }
    return b.toString();
  }

  /** Deletes {@code p} recursively if it exists; logs instead of throwing. */
  void deleteQuietly(Path p) {
    try {
      if (fs.exists(p) && !fs.delete(p, true)) {
        LOG.warn("could not delete {} (delete returned false)", p);
      }
    } catch (IOException e) {
      LOG.warn("could not delete {}: {}", p, e.toString());
    }
  }
}
