// The ND4J adapter: a view of a flat float32 INDArray is reduced in place, in
// the array's own off-heap memory, and arrays the ring cannot reduce correctly
// are refused.
package org.ringtrain.sync.nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.ringtrain.sync.LocalRendezvous;
import org.ringtrain.sync.ReduceOp;
import org.ringtrain.sync.RingCommunicator;
import org.ringtrain.sync.RingConfig;
import org.ringtrain.sync.RingSecret;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class Nd4jRegionsTest {

  @Test
  void aViewOfAFlatBufferIsAveragedInPlaceAndTheRestIsUntouched() throws Exception {
    int world = 2;
    RingConfig config = RingConfig.defaults("nd4j", RingSecret.generate()).withBindHost("127.0.0.1");
    LocalRendezvous.Group group = new LocalRendezvous.Group(world, Duration.ofSeconds(30));
    ExecutorService pool = Executors.newFixedThreadPool(world);
    try {
      List<Future<INDArray>> ranks = new ArrayList<>();
      for (int r = 0; r < world; r++) {
        int rank = r;
        ranks.add(pool.submit(() -> {
          INDArray flat = Nd4j.valueArrayOf(new long[] {5000}, (float) (rank + 1), DataType.FLOAT);
          INDArray grads = flat.get(NDArrayIndex.interval(1000, 4000)); // a bucket: a view, no copy
          try (RingCommunicator ring = RingCommunicator.connect(config, group.forRank(rank))) {
            ByteBuffer buffer = Nd4jRegions.buffer(grads);
            ring.allReduce(buffer, Nd4jRegions.offset(grads), Nd4jRegions.length(grads), ReduceOp.AVERAGE);
          }
          return flat;
        }));
      }
      for (int r = 0; r < world; r++) {
        INDArray flat = ranks.get(r).get();
        assertEquals(r + 1f, flat.getFloat(999), "element before the view");
        assertEquals(1.5f, flat.getFloat(1000), "first element of the view");
        assertEquals(1.5f, flat.getFloat(3999), "last element of the view");
        assertEquals(r + 1f, flat.getFloat(4000), "element after the view");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void arraysTheRingCannotReduceAreRefusedWithAHint() {
    IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
        () -> Nd4jRegions.buffer(Nd4j.zeros(DataType.DOUBLE, 10)));
    assertTrue(dtype.getMessage().contains("DOUBLE"), dtype.getMessage());
    INDArray column = Nd4j.zeros(DataType.FLOAT, 4, 3).getColumn(1);
    IllegalArgumentException strided = assertThrows(IllegalArgumentException.class,
        () -> Nd4jRegions.buffer(column));
    assertTrue(strided.getMessage().contains("dense"), strided.getMessage());
  }
}
