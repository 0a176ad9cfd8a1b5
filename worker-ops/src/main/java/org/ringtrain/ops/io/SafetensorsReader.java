/*
 * SafetensorsReader: loads a safetensors file into a flat parameter buffer laid out by a
 * ParameterLayout, checking every tensor's name, dtype and shape before reading data, and refusing
 * corrupt or truncated files with messages that say what was expected and found. It never
 * allocates what the file's header asks for: data goes straight into the caller's buffer. It is
 * not a general safetensors library: only F32 tensors of the layout are loaded (under their own
 * names or renamed, e.g. from Hugging Face's prefixed GPT-2 names).
 */
package org.ringtrain.ops.io;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.ringtrain.ops.param.ParameterLayout.TensorSpec;
import org.ringtrain.ops.param.ParameterLayout;

/**
 * Reads safetensors files into parameter buffers of one {@link ParameterLayout}.
 *
 * <p>Tensors may appear in any order in the file (Python's safetensors sorts them by name). Every
 * tensor of the layout must be present as F32 with exactly the layout's shape. Tensors the layout
 * does not know are an error unless the reader was built with {@code allowUnknownTensors}; then
 * they are skipped. Files written by {@link SafetensorsWriter} always load.
 */
public final class SafetensorsReader {

  /** How many names a message lists before it says "and N more". */
  private static final int NAMES_IN_MESSAGE = 5;

  private final ParameterLayout layout;
  private final boolean allowUnknownTensors;
  private final UnaryOperator<String> rename;

  /**
   * One tensor of a file as its header describes it.
   *
   * @param name       the tensor's name in the file
   * @param dtype      safetensors dtype, e.g. "F32"
   * @param shape      the shape (empty for a scalar)
   * @param fileOffset the file position of its first data byte
   * @param bytes      its data bytes
   */
  public record TensorInfo(String name, String dtype, long[] shape, long fileOffset, long bytes) {
  }

  /**
   * What a file holds, read from its header only.
   *
   * @param metadata the file's {@code __metadata__}, empty if none
   * @param tensors  every tensor, in file order
   */
  public record Contents(Map<String, String> metadata, List<TensorInfo> tensors) {

    /** The tensor of this name, or null. */
    public TensorInfo find(String name) {
      for (TensorInfo t : tensors) {
        if (t.name().equals(name)) {
          return t;
        }
      }
      return null;
    }
  }

  /** A strict reader for {@code layout}: unknown tensors are an error. */
  public SafetensorsReader(ParameterLayout layout) {
    this(layout, false);
  }

  /**
   * A reader for {@code layout}.
   *
   * @param layout              the layout the buffer follows
   * @param allowUnknownTensors skip tensors the layout does not name instead of failing (default
   *                            false); useful for Hugging Face files that carry extra buffers such
   *                            as {@code h.0.attn.bias}
   */
  public SafetensorsReader(ParameterLayout layout, boolean allowUnknownTensors) {
    if (layout == null) {
      throw new IllegalArgumentException("layout must not be null; pass GptModel.layout(config)");
    }
    this.layout = layout;
    this.allowUnknownTensors = allowUnknownTensors;
    this.rename = UnaryOperator.identity();
  }

  /**
   * A reader for {@code layout} that loads each file tensor under the layout name
   * {@code rename.apply(fileName)} and skips the tensors it maps to null (non-parameter buffers,
   * a tied head). Every layout tensor must still be found exactly once, with its shape.
   */
  public SafetensorsReader(ParameterLayout layout, UnaryOperator<String> rename) {
    if (layout == null || rename == null) {
      throw new IllegalArgumentException("layout and rename must not be null; pass GptModel.layout(config) and a"
          + " name mapping (UnaryOperator.identity() for none)");
    }
    this.layout = layout;
    this.allowUnknownTensors = false;
    this.rename = rename;
  }

  /**
   * Reads and checks the header of {@code file} (and that the file is exactly as long as it says),
   * without reading tensor data.
   *
   * @throws SafetensorsException for a corrupt or truncated file
   */
  public static Contents inspect(Path file) throws IOException {
    long size = Files.size(file);
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), FlatBufferIo.CHUNK_BYTES)) {
      return inspect(in, size, file.toString());
    }
  }

  /**
   * {@link #inspect(Path)} of a stream positioned at a file's start (on any file system): reads the
   * header only, checked against {@code size} (-1 when unknown).
   *
   * @param source names the stream in messages
   * @throws SafetensorsException for a corrupt or truncated file
   */
  public static Contents inspect(InputStream in, long size, String source) throws IOException {
    SafetensorsHeader.Framed framed = SafetensorsHeader.read(in, size, source);
    List<TensorInfo> tensors = new ArrayList<>();
    for (SafetensorsHeader.Entry e : framed.header().entries()) {
      tensors.add(new TensorInfo(e.name(), e.dtype(), e.shape(), framed.dataStart() + e.begin(),
          e.end() - e.begin()));
    }
    return new Contents(framed.header().metadata(), List.copyOf(tensors));
  }

  /**
   * Loads {@code file} into {@code flat}. The file's size is checked against its header before any
   * data is read, so a truncated file fails before {@code flat} changes.
   *
   * @param file the safetensors file
   * @param flat the flat float32 buffer of {@code layout.totalElements()} elements to fill
   * @return the file's {@code __metadata__}, empty if it has none
   * @throws SafetensorsException for a corrupt or truncated file, or tensors that do not fit
   * @throws IOException          from the file system
   */
  public Map<String, String> read(Path file, INDArray flat) throws IOException {
    long size = Files.size(file);
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), FlatBufferIo.CHUNK_BYTES)) {
      return read(in, size, flat, file.toString());
    }
  }

  /**
   * Loads a safetensors stream into {@code flat}. If the stream ends early, the tensors read so
   * far are already in {@code flat}; prefer {@link #read(Path, INDArray)} where a file exists.
   *
   * @param in   the stream, positioned at the start of the file; read to its end, not closed
   * @param flat the flat float32 buffer of {@code layout.totalElements()} elements to fill
   * @return the file's {@code __metadata__}, empty if it has none
   * @throws SafetensorsException for a corrupt or truncated stream, or tensors that do not fit
   * @throws IOException          from the stream
   */
  public Map<String, String> read(InputStream in, INDArray flat) throws IOException {
    return read(in, -1, flat, "safetensors stream");
  }

  private Map<String, String> read(InputStream in, long size, INDArray flat, String source) throws IOException {
    FlatBufferIo.checkFlat("flat parameter buffer", flat, layout.totalElements());
    SafetensorsHeader.Framed framed = SafetensorsHeader.read(in, size, source);
    SafetensorsHeader header = framed.header();
    long expectedSize = framed.fileBytes();
    checkAgainstLayout(header, source);
    readData(in, header, flat, source, framed.dataStart(), expectedSize);
    if (in.read() >= 0) {
      throw new SafetensorsException(source + " has trailing bytes after the last tensor: expected "
          + expectedSize + " bytes in total; the file is corrupt");
    }
    return header.metadata();
  }

  private void checkAgainstLayout(SafetensorsHeader header, String source) throws SafetensorsException {
    Map<String, SafetensorsHeader.Entry> byName = new HashMap<>();
    List<String> unknown = new ArrayList<>();
    for (SafetensorsHeader.Entry e : header.entries()) {
      String name = rename.apply(e.name());
      if (name == null) {
        continue;
      }
      if (byName.put(name, e) != null) {
        throw new SafetensorsException(source + ": two tensors load as '" + name + "' (the second is '" + e.name()
            + "'); expected each parameter once, bare or prefixed, not both");
      }
      if (!layout.contains(name)) {
        unknown.add(e.name());
      }
    }
    List<String> missing = new ArrayList<>();
    for (TensorSpec t : layout.tensors()) {
      if (!byName.containsKey(t.name())) {
        missing.add(t.name());
      }
    }
    if (!missing.isEmpty()) {
      throw new SafetensorsException(source + ": missing tensor '" + missing.get(0) + "'" + more(missing)
          + "; expected the " + layout.tensors().size() + " tensors of " + layout + ", found "
          + header.entries().size() + " tensors. Was the file written for another model config?");
    }
    if (!unknown.isEmpty() && !allowUnknownTensors) {
      throw new SafetensorsException(source + ": unknown tensor '" + unknown.get(0) + "'" + more(unknown)
          + " not in " + layout + "; construct the reader with allowUnknownTensors=true to skip such tensors");
    }
    for (TensorSpec t : layout.tensors()) {
      SafetensorsHeader.Entry e = byName.get(t.name());
      if (SafetensorsHeader.I8.equals(e.dtype()) || header.metadata().containsKey(TensorFile.QUANTIZATION_KEY)) {
        throw new SafetensorsException(source + " is an int8 quantised model (scheme '"
            + header.metadata().getOrDefault(TensorFile.QUANTIZATION_KEY, "unknown") + "'; tensor '" + t.name()
            + "' has dtype " + e.dtype() + "), expected float32 weights: a quantised model serves inference only"
            + " (generate/evaluate --weights) and cannot be trained from; resume or initialise from the float32"
            + " checkpoint it was quantised from");
      }
      if (!SafetensorsHeader.F32.equals(e.dtype())) {
        throw new SafetensorsException(source + ": tensor '" + t.name() + "' has dtype " + e.dtype()
            + ", expected " + SafetensorsHeader.F32 + "; convert the file to float32 first (in Python: "
            + "save_file({k: v.float() for k, v in tensors.items()}, path))");
      }
      if (!Arrays.equals(e.shape(), t.shape())) {
        throw new SafetensorsException(source + ": tensor '" + t.name() + "' has shape "
            + Arrays.toString(e.shape()) + ", expected " + Arrays.toString(t.shape()) + " for " + layout
            + "; was the file written for another model config? (GPT-2 linear weights are [in, out])");
      }
    }
  }

  private void readData(InputStream in, SafetensorsHeader header, INDArray flat, String source, long dataStart,
      long expectedSize) throws IOException {
    byte[] chunk = new byte[FlatBufferIo.CHUNK_BYTES];
    for (SafetensorsHeader.Entry e : header.entries()) {
      String what = "tensor '" + e.name() + "' (file bytes [" + (dataStart + e.begin()) + ", " + (dataStart + e.end())
          + ") of " + expectedSize + " expected in " + source + ")";
      try {
        String name = rename.apply(e.name());
        if (name != null && layout.contains(name)) {
          TensorSpec t = layout.get(name);
          FlatBufferIo.read(in, flat, t.offset(), t.length(), chunk, what);
        } else {
          FlatBufferIo.skip(in, e.end() - e.begin(), what);
        }
      } catch (EOFException eof) {
        throw new SafetensorsException(source + " is truncated: " + eof.getMessage(), eof);
      }
    }
  }

  private static String more(List<String> names) {
    if (names.size() == 1) {
      return "";
    }
    List<String> shown = names.subList(1, Math.min(names.size(), NAMES_IN_MESSAGE));
    int rest = names.size() - 1 - shown.size();
    return " (and " + String.join(", ", shown) + (rest > 0 ? " and " + rest + " more" : "") + ")";
  }
}
