/*
 * Tests of ParameterBuffer: every tensor is a view into one contiguous buffer, and the direct
 * ByteBuffer the all-reduce uses is that same memory. Test code only.
 */
package org.ringtrain.ops.param;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ParameterBufferTest {

  private static final ParameterLayout LAYOUT = GptModel.layout(new ModelConfig(10, 8, 4, 2, 2, 0));

  @Test
  void everyTensorIsAViewOfTheFlatBuffer() {
    try (ParameterBuffer p = ParameterBuffer.zeros(LAYOUT)) {
      assertEquals(DataType.FLOAT, p.dataType());
      assertEquals(LAYOUT.totalElements(), p.flat().length());
      for (ParameterLayout.TensorSpec t : LAYOUT.tensors()) {
        INDArray view = p.view(t.name());
        assertTrue(view.isView(), t.name() + " must be a view");
        assertEquals(p.flat().data().address(), view.data().address(), t.name() + " shares the flat memory");
        assertArrayEquals(t.shape(), view.shape(), t.name());
      }
    }
  }

  @Test
  void writesThroughAViewShowInTheFlatBufferAndTheByteBuffer() {
    try (ParameterBuffer p = ParameterBuffer.zeros(LAYOUT)) {
      ParameterLayout.TensorSpec spec = LAYOUT.get("h.1.mlp.c_fc.weight");
      p.view(spec.name()).putScalar(0, 3, 2.5f); // row 0, column 3 of [C, 4C]
      long index = spec.offset() + 3;
      assertEquals(2.5f, p.flat().getFloat(index));
      ByteBuffer bytes = p.asByteBuffer();
      assertTrue(bytes.isDirect());
      assertEquals(p.bytes(), bytes.capacity());
      assertEquals(2.5f, bytes.getFloat((int) (4 * index)));
    }
  }

  @Test
  void unknownNamesAndTypesAreRejected() {
    try (ParameterBuffer p = ParameterBuffer.zeros(LAYOUT)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.view("h.2.ln_1.bias"));
      assertTrue(e.getMessage().contains("'h.2.ln_1.bias'"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> ParameterBuffer.zeros(LAYOUT, DataType.HALF));
  }
}
