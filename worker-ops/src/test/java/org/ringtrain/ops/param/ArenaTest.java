/*
 * Arena: views of a smaller shape share the sized arrays' memory, a shape seen before gets the
 * same view back (no ND4J view per carving), and a shape larger than at sizing is refused.
 */
package org.ringtrain.ops.param;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ArenaTest {

  @Test
  void carvingsShareMemoryAndReuseTheirViews() {
    try (Arena arena = new Arena(DataType.FLOAT)) {
      INDArray a = arena.take(4, 6);
      INDArray b = arena.take(4, 6, 2);
      arena.reset();
      INDArray a23 = arena.take(2, 3);
      INDArray b232 = arena.take(2, 3, 2);
      a23.assign(7);
      assertEquals(7f, a.getFloat(0, 0), "a (2, 3) carving starts at the sized array's first element");
      assertEquals(7f, a.getFloat(0, 5), "and runs over its first 6 elements in c order");
      assertEquals(0f, a.getFloat(1, 0), "and no further");
      assertArrayEquals(new long[] {2, 3, 2}, b232.shape());

      arena.reset();
      assertSame(a23, arena.take(2, 3), "the same array and shape give the same view back");
      INDArray b331 = arena.take(3, 3, 1);
      assertNotSame(b232, b331, "another shape is another view");
      assertArrayEquals(new long[] {3, 3, 1}, b331.shape());

      arena.reset();
      assertSame(a23, arena.take(2, 3));
      assertSame(b232, arena.take(2, 3, 2), "views of earlier shapes are kept");
      assertTrue(b.length() == 48 && b232.length() == 12);
    }
  }

  @Test
  void refusesAShapeLargerThanAtSizing() {
    try (Arena arena = new Arena(DataType.FLOAT)) {
      arena.take(2, 3);
      arena.reset();
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> arena.take(3, 3));
      assertTrue(e.getMessage().contains("holds 6 elements, not 9"), e.getMessage());
    }
  }
}
