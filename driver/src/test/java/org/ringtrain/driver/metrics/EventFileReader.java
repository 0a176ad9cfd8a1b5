// Test helper: reads a TensorBoard event file back, independently of
// TensorBoardWriter (its own TFRecord parser, CRC check and protobuf decoding
// with CodedInputStream). It is not a general reader: it decodes only the
// Event, Summary.Value and SessionLog fields ringtrain writes and fails on any
// other field, so an unexpected field in the file is a test failure.
package org.ringtrain.driver.metrics;

import com.google.protobuf.CodedInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/** Parses TFRecord-framed tensorboard.Event messages from a local file. */
final class EventFileReader {

  /** One summary value: tensorboard.Summary.Value{tag = 1, simple_value = 2}. */
  record Value(String tag, float simpleValue) {}

  /**
   * One tensorboard.Event: wall_time = 1, step = 2, file_version = 3, summary = 5 (its values),
   * session_log = 7 (its status; -1 when absent).
   */
  record Event(double wallTime, long step, String fileVersion, List<Value> values, int sessionLogStatus) {}

  private EventFileReader() {}

  /** Every record of {@code file}, in order; AssertionError on a bad length, CRC or field. */
  static List<Event> read(Path file) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    List<Event> events = new ArrayList<>();
    while (buf.hasRemaining()) {
      int at = buf.position();
      check(buf.remaining() >= 12, "truncated record header at byte " + at);
      byte[] lengthBytes = new byte[8];
      buf.get(lengthBytes);
      long length = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
      int lengthCrc = buf.getInt();
      check(lengthCrc == masked(lengthBytes), "bad length CRC at byte " + at);
      check(length >= 0 && length <= buf.remaining() - 4, "record at byte " + at + " claims " + length
          + " bytes but " + (buf.remaining() - 4) + " remain");
      byte[] data = new byte[(int) length];
      buf.get(data);
      int dataCrc = buf.getInt();
      check(dataCrc == masked(data), "bad data CRC in the record at byte " + at);
      events.add(event(data));
    }
    return events;
  }

  /** CRC32C masked the TFRecord way, written out here from the format's definition. */
  private static int masked(byte[] bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    long c = crc.getValue(); // unsigned 32-bit value in a long
    long rotated = ((c >>> 15) | (c << 17)) & 0xffffffffL;
    return (int) ((rotated + 0xa282ead8L) & 0xffffffffL);
  }

  private static Event event(byte[] data) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(data);
    double wallTime = Double.NaN;
    long step = 0;
    String fileVersion = null;
    List<Value> values = new ArrayList<>();
    int status = -1;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case (1 << 3) | 1 -> wallTime = in.readDouble();
        case (2 << 3) -> step = in.readInt64();
        case (3 << 3) | 2 -> fileVersion = in.readString();
        case (5 << 3) | 2 -> values.addAll(summary(in.readByteArray()));
        case (7 << 3) | 2 -> status = sessionLogStatus(in.readByteArray());
        default -> throw new AssertionError("unexpected Event field " + (tag >>> 3) + " wire type " + (tag & 7));
      }
    }
    return new Event(wallTime, step, fileVersion, values, status);
  }

  private static List<Value> summary(byte[] data) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(data);
    List<Value> values = new ArrayList<>();
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      check(tag == ((1 << 3) | 2), "unexpected Summary field " + (tag >>> 3));
      CodedInputStream v = CodedInputStream.newInstance(in.readByteArray());
      String name = null;
      float value = Float.NaN;
      for (int vt = v.readTag(); vt != 0; vt = v.readTag()) {
        switch (vt) {
          case (1 << 3) | 2 -> name = v.readString();
          case (2 << 3) | 5 -> value = v.readFloat();
          default -> throw new AssertionError("unexpected Summary.Value field " + (vt >>> 3));
        }
      }
      values.add(new Value(name, value));
    }
    return values;
  }

  private static int sessionLogStatus(byte[] data) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(data);
    int status = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      check(tag == (1 << 3), "unexpected SessionLog field " + (tag >>> 3));
      status = in.readEnum();
    }
    return status;
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new AssertionError(message);
    }
  }
}
