/*
 * SafetensorsWriter: writes a flat parameter buffer as a safetensors file with the Hugging Face
 * GPT-2 tensor names and shapes of a ParameterLayout, so that Python's safetensors and transformers
 * load it. It is not a checkpoint writer: atomic replace, optimizer state and the training position
 * belong to the driver's checkpoints, which call this.
 */
package org.ringtrain.ops.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * Writes parameter buffers of one {@link ParameterLayout} as safetensors.
 *
 * <p>File layout (https://github.com/huggingface/safetensors#format): an 8-byte little-endian
 * unsigned header length N, N bytes of UTF-8 JSON padded with spaces to a multiple of 8, then the
 * raw little-endian float32 data of every tensor, in layout order and without gaps. Each tensor
 * entry is {@code {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}} with byte offsets
 * relative to the data section. Since the layout is the buffer order, the data section is the flat
 * buffer streamed once, with no per-tensor copies.
 *
 * <p>Metadata always written (callers may override or add keys): {@code format=pt}, which
 * transformers' {@code from_pretrained} requires; {@link #FORMAT_VERSION_KEY}; and
 * {@link #MODEL_CONFIG_KEY}, the model config as JSON with Hugging Face GPT2Config names (for GPT-2
 * layouts; other layouts get {@link #MODEL_KIND_KEY} instead).
 */
public final class SafetensorsWriter {

  /** Metadata key of ringtrain's safetensors format version. */
  public static final String FORMAT_VERSION_KEY = "ringtrain.format_version";

  /** The format version this writer writes: "1". */
  public static final String FORMAT_VERSION = "1";

  /** Metadata key of the model config (JSON with GPT2Config names: vocab_size, n_positions, ...). */
  public static final String MODEL_CONFIG_KEY = "ringtrain.model_config";

  /** Metadata key naming the model of a non-GPT layout (its {@code ParameterLayout.kind()}). */
  public static final String MODEL_KIND_KEY = "ringtrain.model_kind";

  private final ParameterLayout layout;

  /** A writer for buffers laid out as {@code layout}. */
  public SafetensorsWriter(ParameterLayout layout) {
    if (layout == null) {
      throw new IllegalArgumentException("layout must not be null; pass the model's layout, e.g. GptModel.layout(config)");
    }
    this.layout = layout;
  }

  /**
   * Writes {@code flat} to {@code file}, replacing it if it exists.
   *
   * @param flat     the flat float32 parameter buffer of {@code layout.totalElements()} elements
   * @param metadata extra string metadata, added to (and overriding) the defaults; may be empty
   * @param file     destination path
   * @throws IOException from the file system
   */
  public void write(INDArray flat, Map<String, String> metadata, Path file) throws IOException {
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), FlatBufferIo.CHUNK_BYTES)) {
      write(flat, metadata, out);
    }
  }

  /**
   * Writes {@code flat} as a complete safetensors file to {@code out}, then flushes it.
   *
   * @param flat     the flat float32 parameter buffer of {@code layout.totalElements()} elements
   * @param metadata extra string metadata, added to (and overriding) the defaults; may be empty
   * @param out      destination; flushed, not closed
   * @throws IOException from {@code out}
   */
  public void write(INDArray flat, Map<String, String> metadata, OutputStream out) throws IOException {
    FlatBufferIo.checkFlat("flat parameter buffer", flat, layout.totalElements());
    if (metadata == null) {
      throw new IllegalArgumentException("metadata must not be null; pass Map.of() for none");
    }
    byte[] header = header(metadata).encode();
    out.write(ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
    out.write(header);
    byte[] chunk = new byte[FlatBufferIo.CHUNK_BYTES];
    // Tensors are dense in the buffer, so merge them into as few contiguous runs as the buffer allows.
    long runStart = -1;
    long runEnd = -1;
    for (TensorSpec t : layout.tensors()) {
      if (t.offset() != runEnd) {
        if (runStart >= 0) {
          FlatBufferIo.write(flat, runStart, runEnd - runStart, out, chunk);
        }
        runStart = t.offset();
      }
      runEnd = t.offset() + t.length();
    }
    if (runStart >= 0) {
      FlatBufferIo.write(flat, runStart, runEnd - runStart, out, chunk);
    }
    out.flush();
  }

  /** The header this writer produces for {@code layout}, with the given extra metadata. */
  SafetensorsHeader header(Map<String, String> metadata) {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put(FORMAT_VERSION_KEY, FORMAT_VERSION);
    if (layout.description().isEmpty()) {
      meta.put(MODEL_KIND_KEY, layout.kind());
    } else {
      meta.putAll(layout.description()); // e.g. the GPT's config under MODEL_CONFIG_KEY
    }
    meta.putAll(metadata);
    List<SafetensorsHeader.Entry> entries = new ArrayList<>(layout.tensors().size());
    long begin = 0;
    for (TensorSpec t : layout.tensors()) {
      long end = begin + t.length() * Float.BYTES;
      entries.add(new SafetensorsHeader.Entry(t.name(), SafetensorsHeader.F32, t.shape(), begin, end));
      begin = end;
    }
    return new SafetensorsHeader(meta, entries);
  }
}
