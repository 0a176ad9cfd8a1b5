// Rendezvous through a Spark barrier stage: every task publishes host:port with
// one BarrierTaskContext.allGather, which returns the messages in partition
// order, so rank == partition id. One call per stage attempt: each allGather
// costs about a second of Spark's polling.
package org.ringtrain.sync.spark;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.ringtrain.sync.Rendezvous;
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
  public List<InetSocketAddress> exchange(InetSocketAddress self) throws IOException {
    String[] all;
    try {
      all = context.allGather(self.getHostString() + ":" + self.getPort());
    } catch (RuntimeException e) {
      throw new RingException(null, RingException.Operation.RENDEZVOUS,
          "BarrierTaskContext.allGather failed: " + e.getMessage(), e);
    }
    List<InetSocketAddress> addresses = new ArrayList<>(all.length);
    for (int rank = 0; rank < all.length; rank++) {
      addresses.add(parse(all[rank], rank));
    }
    return addresses;
  }

  static InetSocketAddress parse(String hostPort, int rank) throws RingException {
    int colon = hostPort == null ? -1 : hostPort.lastIndexOf(':');
    try {
      if (colon > 0) {
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
          host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
      }
    } catch (IllegalArgumentException e) {
      // fall through to the error below
    }
    throw new RingException(null, RingException.Operation.RENDEZVOUS, "rank " + rank
        + " published '" + hostPort + "', expected host:port");
  }
}
