/*
 * SafetensorsHeader: the JSON header of a safetensors file, encoded and decoded with Jackson and
 * checked for internal consistency (known dtypes, sizes that match shapes, data offsets that tile
 * the data section). It is not the comparison with a model layout (SafetensorsReader does that)
 * and it never touches tensor data.
 */
package org.ringtrain.ops.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The decoded header: the {@code __metadata__} string map and the tensor entries sorted by their
 * begin offset. Format: https://github.com/huggingface/safetensors#format.
 *
 * @param metadata string-to-string metadata, in file order; empty if the file has none
 * @param entries  every tensor, sorted by {@code begin}; offsets are contiguous from 0
 */
record SafetensorsHeader(Map<String, String> metadata, List<Entry> entries) {

  /** Key of the metadata object inside the header, fixed by the format. */
  static final String METADATA_KEY = "__metadata__";

  /** The dtype of float32 tensors, the only one of model checkpoints. */
  static final String F32 = "F32";

  /** The dtype of int8 tensors (quantised models). */
  static final String I8 = "I8";

  /**
   * The safetensors library's own limit on the header size (100 MB). A larger length field means a
   * corrupt file, and refusing it early keeps a bad file from making us allocate.
   */
  static final long MAX_HEADER_BYTES = 100_000_000L;

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /** Bytes per element of each dtype the format defines. */
  private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(
      Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1),
      Map.entry("F8_E5M2", 1), Map.entry("F8_E4M3", 1),
      Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2), Map.entry("BF16", 2),
      Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
      Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));

  /**
   * One tensor of the header.
   *
   * @param name  tensor name
   * @param dtype safetensors dtype string, e.g. "F32"
   * @param shape tensor shape (may be empty for a scalar)
   * @param begin first byte of its data, relative to the start of the data section
   * @param end   one past its last byte
   */
  record Entry(String name, String dtype, long[] shape, long begin, long end) {
    @Override
    public String toString() {
      return name + " " + dtype + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
    }
  }

  /**
   * A header as framed in a file: the header and the length of its JSON, which place the data.
   *
   * @param header      the decoded header
   * @param headerBytes the JSON's length (the file's first 8 bytes)
   */
  record Framed(SafetensorsHeader header, long headerBytes) {
    /** File offset of the data section. */
    long dataStart() {
      return Long.BYTES + headerBytes;
    }

    /** The file size the header implies. */
    long fileBytes() {
      return dataStart() + header.dataBytes();
    }
  }

  /**
   * Reads the 8-byte length and the JSON header from {@code in} (positioned at the file's start)
   * and decodes it, checking the length against {@code size} (-1 when unknown) and the file size
   * against what the header implies, so that a truncated file fails before any data is read.
   */
  static Framed read(InputStream in, long size, String source) throws IOException {
    byte[] lengthBytes = in.readNBytes(Long.BYTES);
    if (lengthBytes.length < Long.BYTES) {
      throw new SafetensorsException(source + " is truncated: expected at least 8 bytes (the header length), found "
          + lengthBytes.length + "; the file is empty or cut short");
    }
    long headerLength = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    long room = size < 0 ? MAX_HEADER_BYTES : Math.min(size - Long.BYTES, MAX_HEADER_BYTES);
    // An unsigned length beyond Long.MAX_VALUE reads as negative: as absurd as one beyond the file.
    if (headerLength < 2 || headerLength > room) {
      throw new SafetensorsException(source + ": header length " + Long.toUnsignedString(headerLength)
          + " is absurd: it must be between 2 and " + room + " bytes ("
          + (size < 0 ? "the safetensors limit" : "the file has " + size + " bytes")
          + "); the file is corrupt or not safetensors");
    }
    // readNBytes grows its result as bytes arrive, so a short stream cannot make it allocate headerLength.
    byte[] json = in.readNBytes((int) headerLength);
    if (json.length < headerLength) {
      throw new SafetensorsException(source + " is truncated: expected a header of " + headerLength
          + " bytes, found " + json.length + "; the file was cut short, use an earlier copy");
    }
    Framed framed = new Framed(decode(json, source), headerLength);
    long expectedSize = framed.fileBytes();
    if (size >= 0 && size != expectedSize) {
      throw new SafetensorsException(source + (size < expectedSize ? " is truncated" : " has trailing bytes")
          + ": expected " + expectedSize + " bytes (8 + header " + headerLength + " + data "
          + framed.header().dataBytes() + "), found " + size
          + (size < expectedSize ? "; the file was cut short, use an earlier copy" : "; the file is corrupt"));
    }
    return framed;
  }

  /** Bytes of the data section: the end offset of the last tensor, 0 if there is none. */
  long dataBytes() {
    return entries.isEmpty() ? 0 : entries.get(entries.size() - 1).end();
  }

  /**
   * Encodes the header as UTF-8 JSON, metadata first and tensors in the given order, padded with
   * spaces to a multiple of 8 bytes so that the data section starts 8-byte aligned, as the
   * safetensors library itself does.
   */
  byte[] encode() {
    ObjectNode root = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = root.putObject(METADATA_KEY);
      metadata.forEach(meta::put);
    }
    for (Entry e : entries) {
      ObjectNode t = root.putObject(e.name());
      t.put("dtype", e.dtype());
      ArrayNode shape = t.putArray("shape");
      for (long d : e.shape()) {
        shape.add(d);
      }
      t.putArray("data_offsets").add(e.begin()).add(e.end());
    }
    byte[] json;
    try {
      json = JSON.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("could not encode a safetensors header of " + entries.size() + " tensors", e);
    }
    int padded = (json.length + 7) / 8 * 8;
    byte[] out = Arrays.copyOf(json, padded);
    Arrays.fill(out, json.length, padded, (byte) ' ');
    return out;
  }

  /**
   * Decodes and checks a header: JSON object, string metadata, known dtypes, data sizes that match
   * the shapes, and data offsets that tile {@code [0, dataBytes)} without gaps or overlaps.
   *
   * @param json the header bytes (trailing spaces allowed)
   * @param source how messages name the file
   * @throws SafetensorsException naming the offending entry and the values found
   */
  static SafetensorsHeader decode(byte[] json, String source) throws SafetensorsException {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new SafetensorsException(source + ": the header is not valid JSON (" + e.getOriginalMessage()
          + "); the file is corrupt or not safetensors", e);
    } catch (IOException e) {
      throw new SafetensorsException(source + ": the header could not be parsed (" + e.getMessage()
          + "); the file is corrupt or not safetensors", e);
    }
    if (root == null || !root.isObject()) {
      throw new SafetensorsException(source + ": the header must be a JSON object, but found "
          + (root == null ? "nothing" : root.getNodeType()) + "; the file is corrupt or not safetensors");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      if (METADATA_KEY.equals(f.getKey())) {
        decodeMetadata(f.getValue(), metadata, source);
      } else {
        entries.add(decodeEntry(f.getKey(), f.getValue(), source));
      }
    }
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long expectedBegin = 0;
    for (Entry e : entries) {
      if (e.begin() != expectedBegin) {
        throw new SafetensorsException(source + ": tensor '" + e.name() + "' starts at data byte " + e.begin()
            + ", expected " + expectedBegin + " (tensor data must be contiguous without gaps or overlaps);"
            + " the file is corrupt");
      }
      expectedBegin = e.end();
    }
    return new SafetensorsHeader(metadata, entries);
  }

  private static void decodeMetadata(JsonNode node, Map<String, String> metadata, String source)
      throws SafetensorsException {
    if (!node.isObject()) {
      throw new SafetensorsException(source + ": " + METADATA_KEY + " must be an object of strings, but found "
          + node.getNodeType());
    }
    Iterator<Map.Entry<String, JsonNode>> it = node.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> m = it.next();
      if (!m.getValue().isTextual()) {
        throw new SafetensorsException(source + ": metadata value of '" + m.getKey()
            + "' must be a string, but found " + m.getValue().getNodeType() + " " + m.getValue());
      }
      metadata.put(m.getKey(), m.getValue().textValue());
    }
  }

  private static Entry decodeEntry(String name, JsonNode node, String source) throws SafetensorsException {
    String where = source + ": tensor '" + name + "'";
    if (!node.isObject()) {
      throw new SafetensorsException(where + " must be an object with dtype, shape and data_offsets, but found "
          + node.getNodeType());
    }
    JsonNode dtypeNode = node.get("dtype");
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw new SafetensorsException(where + " has no string dtype, found " + dtypeNode);
    }
    String dtype = dtypeNode.textValue();
    Integer elementBytes = DTYPE_BYTES.get(dtype);
    if (elementBytes == null) {
      throw new SafetensorsException(where + " has unknown dtype '" + dtype + "', expected one of "
          + DTYPE_BYTES.keySet());
    }
    long[] shape = longArray(node.get("shape"), -1, where + " shape");
    long[] offsets = longArray(node.get("data_offsets"), 2, where + " data_offsets");
    if (offsets[1] < offsets[0]) {
      throw new SafetensorsException(where + " has data_offsets " + Arrays.toString(offsets)
          + " that end before they begin; the file is corrupt");
    }
    long bytes;
    try {
      long elements = 1;
      for (long d : shape) {
        elements = Math.multiplyExact(elements, d);
      }
      bytes = Math.multiplyExact(elements, elementBytes.longValue());
    } catch (ArithmeticException e) {
      throw new SafetensorsException(where + " has shape " + Arrays.toString(shape)
          + " whose byte size overflows a long; the file is corrupt", e);
    }
    if (offsets[1] - offsets[0] != bytes) {
      throw new SafetensorsException(where + " has shape " + Arrays.toString(shape) + " of dtype " + dtype
          + " needing " + bytes + " bytes, but data_offsets " + Arrays.toString(offsets) + " span "
          + (offsets[1] - offsets[0]) + "; the file is corrupt");
    }
    return new Entry(name, dtype, shape, offsets[0], offsets[1]);
  }

  private static long[] longArray(JsonNode node, int requiredLength, String what) throws SafetensorsException {
    if (node == null || !node.isArray()) {
      throw new SafetensorsException(what + " must be an array of non-negative integers, but found " + node);
    }
    if (requiredLength >= 0 && node.size() != requiredLength) {
      throw new SafetensorsException(what + " must have " + requiredLength + " values, but found " + node);
    }
    long[] out = new long[node.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode v = node.get(i);
      if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
        throw new SafetensorsException(what + " must hold non-negative integers, but found " + node);
      }
      out[i] = v.longValue();
    }
    return out;
  }
}
