/*
 * OptimizerStateWriterTest: the bytes of the optimizer-state format: magic, version, kind, sizes,
 * hyper-parameters, little-endian buffers and the trailing checksum.
 */
package org.ringtrain.ops.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.param.ParameterLayout;

@Timeout(60)
class OptimizerStateWriterTest {

  @Test
  void adamWStateIsWrittenFieldByFieldLittleEndianWithACrc32Trailer() throws IOException {
    ParameterLayout layout = OptimTestData.tinyLayout();
    int n = (int) layout.totalElements();
    try (AdamW adamW = new AdamW(layout)) {
      adamW.step(OptimTestData.gaussian(n, 1, 1.0), OptimTestData.gaussian(n, 2, 1.0));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      OptimizerStateWriter.write(adamW, out);
      byte[] bytes = out.toByteArray();
      assertEquals(4 + 4 + 4 + 8 + 8 + 4 + 5 * 8 + 4 + 2 * 4 * n + 8, bytes.length);
      ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      assertEquals("RTOS", new String(bytes, 0, 4, StandardCharsets.US_ASCII));
      assertEquals(1, b.getInt(4), "format version");
      assertEquals(1, b.getInt(8), "kind AdamW");
      assertEquals(n, b.getLong(12));
      assertEquals(1, b.getLong(20), "steps");
      assertEquals(5, b.getInt(28));
      double[] expectedHyper = {3e-4, 0.9, 0.95, 1e-8, 0.1};
      for (int i = 0; i < 5; i++) {
        assertEquals(expectedHyper[i], b.getDouble(32 + 8 * i), "hyper-parameter " + i);
      }
      assertEquals(2, b.getInt(72), "buffers m and v");
      INDArray m = adamW.firstMoment();
      INDArray v = adamW.secondMoment();
      assertEquals(m.getFloat(0), b.getFloat(76));
      assertEquals(m.getFloat(n - 1), b.getFloat(76 + 4 * (n - 1)));
      assertEquals(v.getFloat(7), b.getFloat(76 + 4 * n + 4 * 7));
      CRC32 crc = new CRC32();
      crc.update(bytes, 0, bytes.length - 8);
      assertEquals(crc.getValue(), b.getLong(bytes.length - 8));
    }
  }

  @Test
  void stateBeforeTheFirstStepHasNoBuffers() throws IOException {
    ParameterLayout layout = OptimTestData.tinyLayout();
    try (Sgd sgd = new Sgd(layout)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      OptimizerStateWriter.write(sgd, out);
      ByteBuffer b = ByteBuffer.wrap(out.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
      assertEquals(2, b.getInt(8), "kind Sgd");
      assertEquals(0, b.getLong(20), "steps");
      assertEquals(0, b.getInt(72), "buffers");
      assertEquals(76 + 8, out.size());
    }
  }
}
