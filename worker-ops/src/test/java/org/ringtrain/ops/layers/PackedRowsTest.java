/*
 * Tests of PackedRows and its kernel (PackKernel): the offsets and the rounded row count, the
 * moves between the padded and the packed layout in both directions and both types (padding
 * and slack rows zeroed, whatever they held), and the refusals that name the bad length or shape.
 * Test code only.
 */
package org.ringtrain.ops.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PackedRowsTest {

  @Test
  void offsetsAreRunningSumsAndRowsAreTheTokensRoundedUpToEightAtMostBTimesT() {
    PackedRows rows = PackedRows.of(new int[] {3, 9, 1}, 9);
    assertArrayEquals(new int[] {0, 3, 12, 13}, rows.offsets());
    assertEquals(13, rows.tokens());
    assertEquals(16, rows.rows());
    assertEquals(3, rows.batch());
    assertEquals(9, rows.steps());
    assertEquals(12, rows.offset(2));
    assertEquals(9, rows.length(1));
    assertEquals(18, PackedRows.of(new int[] {9, 9}, 9).rows(), "capped at B*T' = 18, not 24");
    assertEquals(8, PackedRows.of(new int[] {4, 4}, 4).rows(), "already a multiple of 8");
  }

  @Test
  void rowsMoveBothWaysInBothTypesAndPaddingAndSlackRowsBecomeZero() {
    int[] lengths = {2, 4, 1};
    int steps = 4;
    int k = 3;
    PackedRows rows = PackedRows.of(lengths, steps); // 7 tokens, 8 rows
    for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      INDArray packed = Nd4j.create(type, rows.rows(), k);
      for (int i = 0; i < rows.tokens(); i++) {
        packed.getRow(i).assign(i + 1);
      }
      INDArray padded = Nd4j.valueArrayOf(new long[] {3L * steps, k}, -7.0, type); // garbage to overwrite
      rows.toPadded(padded, packed);
      double[] expected = {1, 2, 0, 0, 3, 4, 5, 6, 7, 0, 0, 0};
      for (int r = 0; r < expected.length; r++) {
        for (int j = 0; j < k; j++) {
          assertEquals(expected[r], padded.getDouble(r, j), type + " padded row " + r);
        }
      }
      INDArray back = Nd4j.valueArrayOf(new long[] {rows.rows(), k}, -7.0, type);
      rows.toPacked(back, padded);
      for (int i = 0; i < rows.rows(); i++) {
        for (int j = 0; j < k; j++) {
          assertEquals(i < rows.tokens() ? i + 1 : 0, back.getDouble(i, j), type + " packed row " + i);
        }
      }
    }
  }

  @Test
  void badLengthsAndShapesAreRefusedWithWhatWasFound() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PackedRows.of(new int[] {2, 0}, 4));
    assertTrue(e.getMessage().contains("found length 0 for row 1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PackedRows.of(new int[] {5}, 4));
    assertTrue(e.getMessage().contains("in [1, T'=4]"), e.getMessage());
    PackedRows rows = PackedRows.of(new int[] {2, 3}, 3);
    e = assertThrows(IllegalArgumentException.class,
        () -> rows.toPadded(Nd4j.create(DataType.FLOAT, 5, 4), Nd4j.create(DataType.FLOAT, 5, 4)));
    assertTrue(e.getMessage().contains("padded [B*T', K] = [2*3, K]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> rows.toPacked(Nd4j.create(DataType.FLOAT, 5, 4), Nd4j.create(DataType.DOUBLE, 6, 4)));
    assertTrue(e.getMessage().contains("of one type"), e.getMessage());
  }
}
