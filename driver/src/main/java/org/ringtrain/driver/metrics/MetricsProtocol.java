// The wire format of the metrics channel, shared by MetricsServer (driver) and
// MetricsClient (rank 0): sizes, the protocol version, the status bytes and the
// proof of the run secret. It holds no sockets and no state; the reading and
// writing live in the two ends.
//
//   driver -> rank 0   nonce                      32 random bytes
//   rank 0 -> driver   hello                      version (int32), stage attempt (int32),
//                                                 proof = HMAC-SHA256(secret, ROLE | nonce | version | attempt)
//   driver -> rank 0   status                     one byte: ACCEPTED, UNKNOWN_VERSION or STALE_ATTEMPT;
//                                                 a wrong proof gets no byte, only a closed connection
//   rank 0 -> driver   frames until it closes     length (int32, 1..MAX_LINE_BYTES), UTF-8 JSON object
package org.ringtrain.driver.metrics;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.ringtrain.sync.RingSecret;

/** Constants and the proof computation of the metrics channel; internal. */
final class MetricsProtocol {
  /**
   * Version 2 added the stage attempt to the hello, so that the driver can let a retry's rank 0
   * supersede the one of a failed attempt. Version 1 (no version field) sent the proof alone.
   */
  static final int VERSION = 2;
  /** Largest accepted JSON line, bytes. */
  static final int MAX_LINE_BYTES = 64 * 1024;
  static final int NONCE_BYTES = 32;
  static final int PROOF_BYTES = 32;
  /** version + stage attempt + proof. */
  static final int HELLO_BYTES = 4 + 4 + PROOF_BYTES;
  static final byte[] ROLE = "ringtrain/metrics".getBytes(StandardCharsets.US_ASCII);

  /** The driver takes this rank 0's events. */
  static final int ACCEPTED = 1;
  /** The proof was right but the version is not {@link #VERSION}: driver and executors run different jars. */
  static final int UNKNOWN_VERSION = 2;
  /** The proof was right but a newer stage attempt already reports: this rank 0 is a straggler. */
  static final int STALE_ATTEMPT = 3;

  private MetricsProtocol() {
  }

  /** The hello rank 0 sends in answer to {@code nonce}: version, stage attempt, proof. */
  static byte[] hello(RingSecret secret, byte[] nonce, int version, int stageAttempt) {
    ByteBuffer hello = ByteBuffer.allocate(HELLO_BYTES); // big-endian, as DataInput reads it
    hello.putInt(version).putInt(stageAttempt).put(proof(secret, nonce, version, stageAttempt));
    return hello.array();
  }

  /** HMAC-SHA256 over the role, the nonce, the version and the attempt: the attempt cannot be altered in flight. */
  static byte[] proof(RingSecret secret, byte[] nonce, int version, int stageAttempt) {
    byte[] fields = ByteBuffer.allocate(8).putInt(version).putInt(stageAttempt).array();
    return secret.mac(ROLE, nonce, fields);
  }
}
