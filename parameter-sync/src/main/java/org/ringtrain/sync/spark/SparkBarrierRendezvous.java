// Rendezvous through a Spark barrier stage: every task publishes its
// RingAddress string (host:port, plus its Unix socket for same-host neighbours)
// with one BarrierTaskContext.allGather, which returns the messages in partition
// order, so rank == partition id. One call per stage attempt: each allGather
// costs about a second of Spark's polling.
package org.ringtrain.sync.spark;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.ringtrain.sync.Rendezvous;
import org.ringtrain.sync.RingAddress;
import org.ringtrain.sync.RingException;

/** A {@link Rendezvous} for the task of a barrier stage; create it inside the task. */
public final class SparkBarrierRendezvous implements Rendezvous {
  private final BarrierTaskContext context;

  /** The rendezvous of the current barrier task. */
  public SparkBarrierRendezvous() {
    this(BarrierTaskContext.get());
  }

  /** The rendezvous of the given barrier task context. */
  public SparkBarrierRendezvous(BarrierTaskContext context) {
    if (context == null) {
      throw new IllegalStateException("no BarrierTaskContext: the ring must be joined from inside a "
          + "barrier stage, rdd.barrier().mapPartitions(...)");
    }
    this.context = context;
  }

  @Override
  public int rank() {
    return context.partitionId();
  }

  @Override
  public int worldSize() {
    return context.getTaskInfos().length;
  }

  /** The executor's own address, as Spark's scheduler knows it. */
  @Override
  public String advertisedHost() {
    return context.getTaskInfos()[context.partitionId()].address().replaceFirst(":\\d+$", "");
  }

  @Override
  public List<RingAddress> exchange(RingAddress self) throws IOException {
    String[] all;
    try {
      all = context.allGather(self.format());
    } catch (RuntimeException e) {
      throw new RingException(null, RingException.Operation.RENDEZVOUS,
          "BarrierTaskContext.allGather failed: " + e.getMessage(), e);
    }
    List<RingAddress> addresses = new ArrayList<>(all.length);
    for (int rank = 0; rank < all.length; rank++) {
      addresses.add(RingAddress.parse(all[rank], rank));
    }
    return addresses;
  }
}
