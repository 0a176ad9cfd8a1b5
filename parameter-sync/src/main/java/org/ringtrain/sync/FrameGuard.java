// The protection of one direction of one ring link (RingConfig.protection
// INTEGRITY or ENCRYPTION): AES-256-GCM from the JDK (javax.crypto), a key per
// link derived from the run secret and that link's handshake, and a frame
// counter as the GCM nonce. RingPipeline asks it how to send a frame and what to
// read after a header; it never sees NONE (no guard at all: frames go out
// straight from the caller's buffer, as before). Not thread-safe: a guard
// belongs to its communicator's one I/O thread.
//
// Frame layouts (the 20-byte header is FrameHeader's, unchanged):
//   INTEGRITY   header | payload    | tag[16] = GCM(key, iv(counter), aad = header, plaintext = payload)
//   ENCRYPTION  header | ciphertext | tag[16] = GCM(key, iv(counter), aad = header, plaintext = payload)
//   iv(counter) = 4 zero bytes | counter as 8 bytes big-endian; counter = 0, 1, 2, ... per link
// INTEGRITY sends the payload in the clear with the tag GCM computes when it
// encrypts it; the ciphertext is thrown away (in cache-sized pieces), and the
// receiver encrypts what it received the same way and compares tags in constant
// time. That is GCM's own tag, so forging it is forging GCM. Why not the payload
// as AAD with no plaintext: the JDK's GCM buffers AAD and hashes it without its
// intrinsics, 30-60x slower than encrypting here (docs/benchmarks.md).
// Both ends count the frames of their link, so a frame that is altered, dropped,
// replayed (also from an earlier set-up: its nonces, hence its key, differ) or
// reordered fails its tag. GCM with a counter nonce never repeats a nonce under
// one key: a key lives for one link of one set-up, and 2^64 frames are out of reach.
package org.ringtrain.sync;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/** Seals the frames of one link direction (sender) or opens them (receiver). */
final class FrameGuard {
  /** GCM tag length: 16 bytes, the full tag. */
  static final int TAG_BYTES = 16;
  private static final int IV_BYTES = 12;
  private static final int KEY_BYTES = 32;
  /** HKDF "info" for the key of frames from the connector to the acceptor (the direction data flows). */
  private static final String KEY_INFO = "ringtrain/frame-key/v1 connector->acceptor ";
  private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);
  /** INTEGRITY encrypts in pieces of this size into a scratch buffer that stays in cache. */
  private static final int SCRATCH_BYTES = 64 << 10;

  private final RingProtection protection;
  private final Peer peer;
  private final SecretKeySpec key;
  private final Cipher cipher;
  private final byte[] iv = new byte[IV_BYTES];
  private long counter;
  /** The tag of the frame in flight (INTEGRITY). */
  private final ByteBuffer tag = ByteBuffer.allocateDirect(TAG_BYTES);
  /** Ciphertext and tag of the frame in flight (ENCRYPTION; empty otherwise). */
  private final ByteBuffer sealed;
  /** Where INTEGRITY's discarded ciphertext goes (empty otherwise). */
  private final ByteBuffer scratch;
  /** The tag INTEGRITY computes over a received frame, to compare with the one that came with it. */
  private final byte[] expectedTag = new byte[TAG_BYTES];
  private final byte[] receivedTag = new byte[TAG_BYTES];
  /** What one gathering write sends. */
  private final ByteBuffer[] frame;

  /**
   * A guard for the frames this rank sends to {@code peer} or receives from it.
   *
   * @param key the link's key from {@link #linkKey}
   */
  FrameGuard(RingConfig config, Peer peer, byte[] key) {
    if (config.protection() == RingProtection.NONE) {
      throw new IllegalArgumentException("no FrameGuard for ringProtection NONE: frames go out unguarded");
    }
    this.protection = config.protection();
    this.peer = peer;
    this.key = new SecretKeySpec(key, "AES");
    try {
      this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/GCM/NoPadding is unavailable in this JVM; ringProtection "
          + protection + " needs it (every Java 17 JDK has it)", e);
    }
    boolean encrypting = protection == RingProtection.ENCRYPTION;
    this.sealed = encrypting ? ByteBuffer.allocateDirect(config.segmentBytes() + TAG_BYTES) : NOTHING;
    this.scratch = encrypting ? NOTHING : ByteBuffer.allocateDirect(SCRATCH_BYTES + TAG_BYTES);
    this.frame = new ByteBuffer[encrypting ? 2 : 3];
  }

  /**
   * The AES-256 key of the frames from the connector to the acceptor of one link, by HKDF-SHA256
   * (RFC 5869): extract with salt = SHA-256 of both HELLOs (they carry both sides' fresh nonces,
   * so every set-up gets new keys) and the run secret as input key material, then expand with an
   * info string that names the direction and the protection.
   */
  static byte[] linkKey(RingConfig config, byte[] helloC, byte[] helloA) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(helloC);
      byte[] salt = sha.digest(helloA);
      Mac hmac = Mac.getInstance("HmacSHA256");
      hmac.init(new SecretKeySpec(salt, "HmacSHA256"));
      byte[] prk = hmac.doFinal(config.secret().keyBytes());
      hmac.init(new SecretKeySpec(prk, "HmacSHA256"));
      hmac.update((KEY_INFO + config.protection().name()).getBytes(StandardCharsets.US_ASCII));
      byte[] okm = hmac.doFinal(new byte[] {1}); // T(1): one SHA-256 block is the whole 32-byte key
      return java.util.Arrays.copyOf(okm, KEY_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 or HmacSHA256 is unavailable in this JVM", e);
    }
  }

  /**
   * The buffers that send one frame: {@code header} (flipped) and {@code payload} (position to
   * limit) sealed for the next counter value. The payload's position is not moved (INTEGRITY
   * sends it as it is).
   */
  ByteBuffer[] seal(ByteBuffer header, ByteBuffer payload, String where) throws RingException {
    try {
      cipher.init(Cipher.ENCRYPT_MODE, key, nextIv());
      cipher.updateAAD(header.duplicate());
      if (protection == RingProtection.INTEGRITY) {
        tag.clear();
        tag.put(integrityTag(payload.duplicate()));
        tag.flip();
        frame[0] = header;
        frame[1] = payload;
        frame[2] = tag;
      } else {
        sealed.clear();
        cipher.doFinal(payload.duplicate(), sealed);
        sealed.flip();
        frame[0] = header;
        frame[1] = sealed;
      }
      return frame;
    } catch (GeneralSecurityException e) {
      throw new RingException(peer, RingException.Operation.WRITE, "sealing " + where + " with AES-GCM ("
          + protection + "): " + e, e);
    }
  }

  /**
   * Where the body of a received frame of {@code payloadBytes} is read to: {@code target} itself
   * (INTEGRITY: the payload is plain) or the ciphertext buffer (ENCRYPTION).
   */
  ByteBuffer body(ByteBuffer target, int payloadBytes) {
    if (protection == RingProtection.INTEGRITY) {
      return target;
    }
    sealed.clear().limit(payloadBytes + TAG_BYTES);
    return sealed;
  }

  /** What is read after the body: the tag (INTEGRITY), or null (ENCRYPTION: the tag ends the body). */
  ByteBuffer trailer() {
    return protection == RingProtection.INTEGRITY ? tag.clear() : null;
  }

  /**
   * Checks the frame just read and, for ENCRYPTION, decrypts it into {@code target}.
   *
   * @param header  the received header (its 20 bytes from index 0)
   * @param target  INTEGRITY: holds the received payload from {@code start} to its limit;
   *                ENCRYPTION: where the plaintext goes, exactly its length remaining
   * @throws RingException of operation INTEGRITY, naming the link, when the tag does not match
   */
  void open(ByteBuffer header, ByteBuffer target, int start, String where) throws RingException {
    try {
      ByteBuffer aad = header.duplicate().clear().limit(FrameHeader.BYTES);
      if (protection == RingProtection.INTEGRITY) {
        cipher.init(Cipher.ENCRYPT_MODE, key, nextIv());
        cipher.updateAAD(aad);
        byte[] expected = integrityTag(target.duplicate().position(start));
        tag.flip().get(receivedTag);
        if (!MessageDigest.isEqual(expected, receivedTag)) {
          throw new AEADBadTagException("tag mismatch");
        }
      } else {
        cipher.init(Cipher.DECRYPT_MODE, key, nextIv());
        cipher.updateAAD(aad);
        sealed.flip();
        cipher.doFinal(sealed, target);
      }
    } catch (AEADBadTagException e) {
      throw new RingException(peer, RingException.Operation.INTEGRITY, where + " from the link " + peer
          + " -> this rank failed its AES-GCM tag (ringProtection " + protection + "): the data was altered in "
          + "transit, or the two ranks' link keys disagree (another secret or another ringtrain build). The "
          + "collective fails rather than use the frame; check the network path between the two hosts", e);
    } catch (GeneralSecurityException e) {
      throw new RingException(peer, RingException.Operation.READ, "opening " + where + " with AES-GCM ("
          + protection + "): " + e, e);
    }
  }

  /**
   * The GCM tag of {@code payload} (position to limit) under the cipher as initialised for
   * encryption with its AAD: the ciphertext goes to {@link #scratch} piece by piece and is dropped.
   */
  private byte[] integrityTag(ByteBuffer payload) throws GeneralSecurityException {
    int end = payload.limit();
    for (int at = payload.position(); at < end; at += SCRATCH_BYTES) {
      payload.limit(Math.min(end, at + SCRATCH_BYTES));
      scratch.clear();
      cipher.update(payload, scratch);
    }
    scratch.clear();
    cipher.doFinal(NOTHING.duplicate(), scratch); // what GCM still held back, then the tag
    scratch.flip();
    scratch.position(scratch.limit() - TAG_BYTES);
    scratch.get(expectedTag);
    return expectedTag;
  }

  /** The GCM nonce of the next frame: 4 zero bytes, then the frame counter. */
  private GCMParameterSpec nextIv() {
    long c = counter++;
    for (int i = 0; i < 8; i++) {
      iv[IV_BYTES - 1 - i] = (byte) (c >>> (8 * i));
    }
    return new GCMParameterSpec(TAG_BYTES * 8, iv);
  }
}
