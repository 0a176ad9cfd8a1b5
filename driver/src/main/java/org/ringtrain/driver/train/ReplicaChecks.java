// The checks by which the ranks prove to each other that they are in step: all
// resume from the same step, and their parameters are bitwise equal. Each is one
// small all-reduce; a disagreement fails the rank (and so the barrier stage)
// with the values. It does not decide when to check; RankLoop does.
package org.ringtrain.driver.train;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import org.ringtrain.sync.ReduceOp;
import org.ringtrain.sync.RingCommunicator;
import org.ringtrain.sync.RingException;

/** Cross-rank agreement checks over the ring; every rank must call the same ones in the same order. */
final class ReplicaChecks {

  private ReplicaChecks() {
  }

  /** Every rank must resume from the same step; a rank that saw another checkpoint fails the stage. */
  static void agreeOnStartStep(RingCommunicator ring, long step) throws RingException {
    float[] mean = {step};
    ring.allReduce(mean, ReduceOp.AVERAGE);
    if (mean[0] != (float) step) {
      throw new IllegalStateException("rank " + ring.rank() + " resumes from step " + step + " but the ranks' mean is "
          + mean[0] + ": they read different checkpoints; is checkpointDir on a filesystem every executor sees?");
    }
  }

  /** CRC-32C of the parameters, compared across ranks; replicas must be bitwise equal. Returns the hash. */
  static long parameterHash(RingCommunicator ring, ByteBuffer paramBytes, long step) throws RingException {
    CRC32C crc = new CRC32C();
    crc.update(paramBytes.duplicate().clear());
    long hash = crc.getValue();
    // Two 16-bit halves are exact in float32, and so is their mean when every rank agrees.
    float[] halves = {hash >>> 16, hash & 0xFFFF};
    float[] mine = halves.clone();
    ring.allReduce(halves, ReduceOp.AVERAGE);
    if (halves[0] != mine[0] || halves[1] != mine[1]) {
      throw new IllegalStateException("parameter replicas diverged at step " + step + ": rank " + ring.rank()
          + " has CRC-32C " + Long.toHexString(hash) + " but the ranks disagree");
    }
    return hash;
  }
}
