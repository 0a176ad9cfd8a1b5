/*
 * SafetensorsFixtures: builds safetensors bytes by hand, independent of SafetensorsWriter, so that
 * tests can make files in Python's tensor order or with deliberate faults. Test-only.
 */
package org.ringtrain.ops.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.gpt.GptModel;
import org.ringtrain.ops.gpt.ModelConfig;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;
import org.ringtrain.ops.param.ParameterLayout;

final class SafetensorsFixtures {

  /** One tensor to put in a hand-made file: its header fields and its raw data bytes. */
  record Tensor(String name, String dtype, long[] shape, byte[] data) {
  }

  private SafetensorsFixtures() {
  }

  /** A one-block GPT-2 layout of 300 elements: V=8, T=4, C=4, L=1, NH=2. */
  static ParameterLayout tinyLayout() {
    return GptModel.layout(new ModelConfig(8, 4, 4, 1, 2, 0.0));
  }

  /** A layout larger than one I/O chunk (1 MiB), to cross chunk boundaries. */
  static ParameterLayout chunkCrossingLayout() {
    return GptModel.layout(new ModelConfig(2048, 16, 160, 2, 2, 0.0));
  }

  /** A flat float32 buffer of {@code n} seeded Gaussian values. */
  static INDArray gaussian(long n, long seed) {
    Random random = new Random(seed);
    float[] values = new float[Math.toIntExact(n)];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return Nd4j.createFromArray(values);
  }

  /** The layout's tensors with their data from {@code flat}, sorted by name as Python's safetensors does. */
  static List<Tensor> tensorsByName(ParameterLayout layout, INDArray flat) {
    List<Tensor> out = new ArrayList<>();
    for (TensorSpec t : layout.tensors()) {
      out.add(new Tensor(t.name(), "F32", t.shape(), littleEndian(flat, t.offset(), t.length())));
    }
    out.sort(Comparator.comparing(Tensor::name));
    return out;
  }

  /** {@code count} floats of {@code flat} from {@code from}, as little-endian bytes. */
  static byte[] littleEndian(INDArray flat, long from, long count) {
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(count * 4)).order(ByteOrder.LITTLE_ENDIAN);
    for (long i = from; i < from + count; i++) {
      b.putFloat(flat.getFloat(i));
    }
    return b.array();
  }

  /** A complete file: header with contiguous offsets in list order, then the data. */
  static byte[] file(List<Tensor> tensors) {
    StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
    long offset = 0;
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (Tensor t : tensors) {
      json.append(",\"").append(t.name()).append("\":{\"dtype\":\"").append(t.dtype()).append("\",\"shape\":[");
      for (int i = 0; i < t.shape().length; i++) {
        json.append(i == 0 ? "" : ",").append(t.shape()[i]);
      }
      json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + t.data().length).append("]}");
      offset += t.data().length;
      data.writeBytes(t.data());
    }
    json.append('}');
    return withHeader(json.toString(), data.toByteArray());
  }

  /** The bytes of a file with this exact header text and data section. */
  static byte[] withHeader(String json, byte[] data) {
    byte[] header = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(header.length).put(header).put(data);
    return b.array();
  }
}
