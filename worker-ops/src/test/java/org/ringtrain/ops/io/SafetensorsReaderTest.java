/*
 * SafetensorsReaderTest: bitwise round trips through the writer (file and stream, across I/O
 * chunks), files in Python's tensor order, and every refusal: missing tensor, wrong shape, wrong
 * dtype, truncated file or stream, absurd header length, unknown tensors, broken JSON and offsets.
 */
package org.ringtrain.ops.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.ringtrain.ops.io.SafetensorsFixtures.Tensor;
import org.ringtrain.ops.param.ParameterLayout;

@Timeout(60)
class SafetensorsReaderTest {

  @TempDir
  Path dir;

  private final ParameterLayout layout = SafetensorsFixtures.tinyLayout();

  @Test
  void aFileRoundTripIsBitwiseIncludingSpecialValuesAndKeepsMetadata() throws IOException {
    INDArray flat = SafetensorsFixtures.gaussian(layout.totalElements(), 1);
    flat.putScalar(0, -0.0f);
    flat.putScalar(1, Float.MIN_VALUE);
    flat.putScalar(2, Float.POSITIVE_INFINITY);
    flat.putScalar(3, Float.intBitsToFloat(0x7fc00123));
    Path file = dir.resolve("model.safetensors");
    new SafetensorsWriter(layout).write(flat, Map.of("step", "7"), file);
    INDArray back = Nd4j.zeros(DataType.FLOAT, layout.totalElements());
    Map<String, String> metadata = new SafetensorsReader(layout).read(file, back);
    assertEquals(-1, firstByteDifference(flat, back), "first differing element");
    assertEquals("7", metadata.get("step"));
    assertEquals("pt", metadata.get("format"));
    assertEquals(SafetensorsWriter.FORMAT_VERSION, metadata.get(SafetensorsWriter.FORMAT_VERSION_KEY));
  }

  @Test
  void aStreamRoundTripAcrossManyChunksIsBitwise() throws IOException {
    ParameterLayout big = SafetensorsFixtures.chunkCrossingLayout();
    INDArray flat = SafetensorsFixtures.gaussian(big.totalElements(), 2);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new SafetensorsWriter(big).write(flat, Map.of(), out);
    INDArray back = Nd4j.zeros(DataType.FLOAT, big.totalElements());
    new SafetensorsReader(big).read(new ByteArrayInputStream(out.toByteArray()), back);
    assertEquals(-1, firstByteDifference(flat, back), "first differing element");
  }

  @Test
  void tensorsInPythonsNameOrderLoadIntoTheirLayoutPlaces() throws IOException {
    INDArray flat = SafetensorsFixtures.gaussian(layout.totalElements(), 3);
    byte[] file = SafetensorsFixtures.file(SafetensorsFixtures.tensorsByName(layout, flat));
    INDArray back = Nd4j.zeros(DataType.FLOAT, layout.totalElements());
    new SafetensorsReader(layout).read(new ByteArrayInputStream(file), back);
    assertEquals(-1, firstByteDifference(flat, back), "first differing element");
  }

  @Test
  void aMissingTensorIsNamed() {
    List<Tensor> tensors = tensors();
    tensors.removeIf(t -> t.name().equals("h.0.ln_2.bias"));
    SafetensorsException e = assertThrows(SafetensorsException.class, () -> read(SafetensorsFixtures.file(tensors)));
    assertTrue(e.getMessage().contains("missing tensor 'h.0.ln_2.bias'"), e.getMessage());
  }

  @Test
  void aWrongShapeNamesTheTensorTheExpectedAndTheFoundShape() {
    List<Tensor> tensors = tensors();
    int i = indexOf(tensors, "h.0.attn.c_attn.weight");
    Tensor t = tensors.get(i);
    tensors.set(i, new Tensor(t.name(), "F32", new long[] {12, 4}, t.data()));
    SafetensorsException e = assertThrows(SafetensorsException.class, () -> read(SafetensorsFixtures.file(tensors)));
    assertTrue(e.getMessage().contains("'h.0.attn.c_attn.weight' has shape [12, 4], expected [4, 12]"),
        e.getMessage());
  }

  @Test
  void aWrongDtypeIsRefusedWithAConversionHint() {
    List<Tensor> tensors = tensors();
    int i = indexOf(tensors, "ln_f.weight");
    Tensor t = tensors.get(i);
    tensors.set(i, new Tensor(t.name(), "F16", t.shape(), Arrays.copyOf(t.data(), t.data().length / 2)));
    SafetensorsException e = assertThrows(SafetensorsException.class, () -> read(SafetensorsFixtures.file(tensors)));
    assertTrue(e.getMessage().contains("'ln_f.weight' has dtype F16, expected F32")
        && e.getMessage().contains("float()"), e.getMessage());
  }

  @Test
  void aTruncatedFileIsRefusedWithExpectedAndFoundSizesBeforeTheBufferChanges() throws IOException {
    byte[] full = SafetensorsFixtures.file(tensors());
    Path file = dir.resolve("cut.safetensors");
    Files.write(file, Arrays.copyOf(full, full.length - 3));
    INDArray back = Nd4j.zeros(DataType.FLOAT, layout.totalElements());
    SafetensorsException e = assertThrows(SafetensorsException.class,
        () -> new SafetensorsReader(layout).read(file, back));
    assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("expected " + full.length)
        && e.getMessage().contains("found " + (full.length - 3)), e.getMessage());
    assertEquals(0.0, back.sumNumber().doubleValue(), "buffer untouched");
  }

  @Test
  void aTruncatedStreamIsRefusedNamingTheTensorAndTheBytes() {
    byte[] full = SafetensorsFixtures.file(tensors());
    SafetensorsException e = assertThrows(SafetensorsException.class,
        () -> read(Arrays.copyOf(full, full.length - 3)));
    assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("expected 128 bytes, found 125"),
        e.getMessage());
    SafetensorsException header = assertThrows(SafetensorsException.class, () -> read(Arrays.copyOf(full, 5)));
    assertTrue(header.getMessage().contains("expected at least 8 bytes"), header.getMessage());
  }

  @Test
  void aHeaderLengthLargerThanTheFileIsRefusedWithoutAllocatingIt() throws IOException {
    for (long claimed : new long[] {1L << 40, -1L, 4_000}) {
      byte[] b = SafetensorsFixtures.file(tensors());
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, claimed);
      Path file = dir.resolve("absurd.safetensors");
      Files.write(file, b);
      SafetensorsException e = assertThrows(SafetensorsException.class,
          () -> new SafetensorsReader(layout).read(file, Nd4j.zeros(DataType.FLOAT, layout.totalElements())));
      assertTrue(e.getMessage().contains("header length " + Long.toUnsignedString(claimed) + " is absurd")
          && e.getMessage().contains("the file has " + b.length + " bytes"), e.getMessage());
    }
    byte[] b = SafetensorsFixtures.file(tensors());
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
    SafetensorsException stream = assertThrows(SafetensorsException.class, () -> read(b));
    assertTrue(stream.getMessage().contains("is absurd"), stream.getMessage());
  }

  @Test
  void unknownTensorsAreRefusedUnlessAllowedAndThenSkipped() throws IOException {
    INDArray flat = SafetensorsFixtures.gaussian(layout.totalElements(), 4);
    List<Tensor> tensors = SafetensorsFixtures.tensorsByName(layout, flat);
    tensors.add(0, new Tensor("h.0.attn.bias", "F32", new long[] {1, 1, 4, 4}, new byte[64]));
    tensors.add(new Tensor("lm_head.weight", "F16", new long[] {3}, new byte[6]));
    byte[] file = SafetensorsFixtures.file(tensors);
    SafetensorsException e = assertThrows(SafetensorsException.class, () -> read(file));
    assertTrue(e.getMessage().contains("unknown tensor 'h.0.attn.bias' (and lm_head.weight)")
        && e.getMessage().contains("allowUnknownTensors"), e.getMessage());
    INDArray back = Nd4j.zeros(DataType.FLOAT, layout.totalElements());
    new SafetensorsReader(layout, true).read(new ByteArrayInputStream(file), back);
    assertEquals(-1, firstByteDifference(flat, back), "first differing element");
  }

  @Test
  void aHeaderThatIsNotJsonIsRefused() {
    byte[] b = SafetensorsFixtures.withHeader("{\"wte.weight\": [", new byte[0]);
    SafetensorsException e = assertThrows(SafetensorsException.class, () -> read(b));
    assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    SafetensorsException dup = assertThrows(SafetensorsException.class,
        () -> read(SafetensorsFixtures.withHeader("{\"__metadata__\":{},\"__metadata__\":{}}", new byte[0])));
    assertTrue(dup.getMessage().contains("not valid JSON"), dup.getMessage());
  }

  @Test
  void overlappingOrMisSizedOffsetsAreRefused() {
    String overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
    SafetensorsException e = assertThrows(SafetensorsException.class,
        () -> read(SafetensorsFixtures.withHeader(overlap, new byte[12])));
    assertTrue(e.getMessage().contains("tensor 'b' starts at data byte 4, expected 8"), e.getMessage());
    String misSized = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
    SafetensorsException sized = assertThrows(SafetensorsException.class,
        () -> read(SafetensorsFixtures.withHeader(misSized, new byte[8])));
    assertTrue(sized.getMessage().contains("needing 12 bytes"), sized.getMessage());
    String huge = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}";
    SafetensorsException overflow = assertThrows(SafetensorsException.class,
        () -> read(SafetensorsFixtures.withHeader(huge, new byte[8])));
    assertTrue(overflow.getMessage().contains("overflows"), overflow.getMessage());
  }

  @Test
  void trailingBytesAfterTheLastTensorAreRefused() {
    byte[] full = SafetensorsFixtures.file(tensors());
    SafetensorsException e = assertThrows(SafetensorsException.class, () -> read(Arrays.copyOf(full, full.length + 4)));
    assertTrue(e.getMessage().contains("trailing bytes"), e.getMessage());
  }

  private List<Tensor> tensors() {
    return SafetensorsFixtures.tensorsByName(layout, SafetensorsFixtures.gaussian(layout.totalElements(), 9));
  }

  private Map<String, String> read(byte[] file) throws IOException {
    return new SafetensorsReader(layout).read(new ByteArrayInputStream(file),
        Nd4j.zeros(DataType.FLOAT, layout.totalElements()));
  }

  private static int indexOf(List<Tensor> tensors, String name) {
    for (int i = 0; i < tensors.size(); i++) {
      if (tensors.get(i).name().equals(name)) {
        return i;
      }
    }
    throw new AssertionError("no tensor " + name);
  }

  /** Index of the first element whose raw bytes differ, or -1 if none; compares the off-heap memory itself. */
  private static int firstByteDifference(INDArray a, INDArray b) {
    ByteBuffer x = a.data().asNio().order(ByteOrder.nativeOrder());
    ByteBuffer y = b.data().asNio().order(ByteOrder.nativeOrder());
    assertEquals(x.capacity(), y.capacity(), "buffer sizes");
    int i = x.mismatch(y);
    return i < 0 ? -1 : i / 4;
  }
}
