/*
 * SafetensorsWriterTest: the exact bytes the writer produces on a tiny layout: 8-byte little-endian
 * header length, a space-padded JSON header with metadata and contiguous offsets in layout order,
 * and little-endian float data.
 */
package org.ringtrain.ops.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;
import org.ringtrain.ops.param.ParameterLayout;

@Timeout(60)
class SafetensorsWriterTest {

  @Test
  void aTinyFileHasTheSafetensorsLayoutByteForByte() throws IOException {
    ParameterLayout layout = SafetensorsFixtures.tinyLayout();
    INDArray flat = SafetensorsFixtures.gaussian(layout.totalElements(), 1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new SafetensorsWriter(layout).write(flat, Map.of("step", "42"), out);
    byte[] bytes = out.toByteArray();

    long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, headerLength % 8, "header padded so that data starts 8-byte aligned");
    assertEquals(8 + headerLength + 4 * layout.totalElements(), bytes.length);
    String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
    assertEquals(header.stripTrailing(), header.strip(), "only trailing spaces pad the header");
    assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\",\"ringtrain.format_version\":\"1\","
        + "\"ringtrain.model_config\":\"{\\\"vocab_size\\\":8,\\\"n_positions\\\":4,\\\"n_embd\\\":4,"
        + "\\\"n_layer\\\":1,\\\"n_head\\\":2}\",\"step\":\"42\"},"
        + "\"wte.weight\":{\"dtype\":\"F32\",\"shape\":[8,4],\"data_offsets\":[0,128]},"
        + "\"wpe.weight\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[128,192]},"), header);

    JsonNode root = new ObjectMapper().readTree(header);
    assertEquals("pt", root.get("__metadata__").get("format").textValue());
    List<String> names = new ArrayList<>();
    Iterator<String> it = root.fieldNames();
    while (it.hasNext()) {
      names.add(it.next());
    }
    assertEquals("__metadata__", names.remove(0));
    assertEquals(layout.tensors().stream().map(TensorSpec::name).toList(), names, "tensors in layout order");
    long expectedBegin = 0;
    for (TensorSpec t : layout.tensors()) {
      JsonNode e = root.get(t.name());
      assertEquals("F32", e.get("dtype").textValue());
      long[] shape = new long[e.get("shape").size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = e.get("shape").get(i).longValue();
      }
      assertArrayEquals(t.shape(), shape, t.name());
      assertEquals(expectedBegin, e.get("data_offsets").get(0).longValue(), t.name() + " begin");
      expectedBegin += 4 * t.length();
      assertEquals(expectedBegin, e.get("data_offsets").get(1).longValue(), t.name() + " end");
    }
    byte[] data = Arrays.copyOfRange(bytes, 8 + (int) headerLength, bytes.length);
    assertArrayEquals(SafetensorsFixtures.littleEndian(flat, 0, layout.totalElements()), data, "data section");
  }

  @Test
  void aNonGptLayoutRoundTripsAndNamesItsKind() throws IOException {
    ParameterLayout layout = ParameterLayout.builder("toy classifier").add("embed.weight", 5, 3).add("head.bias", 2)
        .build();
    INDArray flat = SafetensorsFixtures.gaussian(layout.totalElements(), 3);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new SafetensorsWriter(layout).write(flat, Map.of(), out);
    INDArray back = org.nd4j.linalg.factory.Nd4j.create(flat.dataType(), layout.totalElements());
    Map<String, String> meta = new SafetensorsReader(layout)
        .read(new java.io.ByteArrayInputStream(out.toByteArray()), back);
    assertEquals(flat, back);
    assertEquals("toy classifier", meta.get(SafetensorsWriter.MODEL_KIND_KEY));
    assertFalse(meta.containsKey(SafetensorsWriter.MODEL_CONFIG_KEY));
  }

  @Test
  void aViewOfALargerBufferIsWrittenFromItsOwnOffset() throws IOException {
    ParameterLayout layout = SafetensorsFixtures.tinyLayout();
    INDArray big = SafetensorsFixtures.gaussian(layout.totalElements() + 10, 2);
    INDArray view = big.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(10, 10 + layout.totalElements()));
    ByteArrayOutputStream fromView = new ByteArrayOutputStream();
    new SafetensorsWriter(layout).write(view, Map.of(), fromView);
    ByteArrayOutputStream fromCopy = new ByteArrayOutputStream();
    new SafetensorsWriter(layout).write(view.dup(), Map.of(), fromCopy);
    assertArrayEquals(fromCopy.toByteArray(), fromView.toByteArray());
  }

  @Test
  void aBufferOfTheWrongSizeIsRejectedBeforeWriting() {
    ParameterLayout layout = SafetensorsFixtures.tinyLayout();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new SafetensorsWriter(layout).write(Nd4j.zeros(DataType.FLOAT, 301), Map.of(), out));
    assertTrue(e.getMessage().contains("300") && e.getMessage().contains("301"), e.getMessage());
    assertEquals(0, out.size());
  }
}
