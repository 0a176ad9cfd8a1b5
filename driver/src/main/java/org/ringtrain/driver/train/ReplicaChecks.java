// The checks by which the ranks prove to each other that they are in step: all
// resume from the same step, their slices of a step's rows add up to the step's
// global batch, and their parameters are bitwise equal. Each is one
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

  /**
   * The hash ({@link BatchSampler#hash}) of the rows every rank used in a step, summed over the
   * ranks; it must equal the hash of the step's global batch, which every rank knows, so a rank that
   * read other rows fails the stage. Returns the agreed hash. {@code sums} (in place: each rank's
   * values in, their sums over the ranks out) travel in the same all-reduce, so that a step's other
   * small sums (its loss) cost no second round trip.
   */
  static long agreeOnSamples(RingCommunicator ring, long mine, long expected, long step, float[] sums)
      throws RingException {
    // Four 16-bit limbs: their sums over up to 256 ranks stay below 2^24, exact in float32.
    float[] limbs = new float[4 + sums.length];
    for (int k = 0; k < 4; k++) {
      limbs[k] = (mine >>> (16 * k)) & 0xFFFF;
    }
    System.arraycopy(sums, 0, limbs, 4, sums.length);
    ring.allReduce(limbs, ReduceOp.SUM);
    System.arraycopy(limbs, 4, sums, 0, sums.length);
    long sum = 0;
    for (int k = 0; k < 4; k++) {
      sum += (long) limbs[k] << (16 * k); // carries out of bit 63 vanish: the hash adds mod 2^64
    }
    if (sum != expected) {
      throw new IllegalStateException("the ranks' rows of step " + step + " do not add up to its global batch: hash "
          + Long.toHexString(sum) + " summed over the ranks, " + Long.toHexString(expected) + " expected (rank "
          + ring.rank() + " used " + Long.toHexString(mine) + "); every rank must hold the same training rows in the"
          + " same order");
    }
    return sum;
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
