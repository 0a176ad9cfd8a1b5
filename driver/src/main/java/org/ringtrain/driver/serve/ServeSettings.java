/*
 * ServeSettings: how the model server listens and what it lets a request ask for - address,
 * batching, queue and request limits, timeouts and the optional API key. It loads no model (see
 * ServedGpt, ServedClassifier) and starts nothing (see ModelServer).
 */
package org.ringtrain.driver.serve;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The server's settings, validated on construction. {@link #defaults()} gives every default.
 *
 * @param host             address to bind; default {@value #DEFAULT_HOST} (loopback only)
 * @param port             port to bind, 0 for any free one; default {@value #DEFAULT_PORT}
 * @param maxBatch         most generate rows per decode step and most texts per classify forward;
 *                         1 turns batching across requests off; default {@value #DEFAULT_MAX_BATCH}
 * @param queueCapacity    requests that may wait for a batch slot before new ones get 429;
 *                         default {@value #DEFAULT_QUEUE_CAPACITY}
 * @param maxTokens        most tokens one generate request may ask for (also bounded by the
 *                         context); default {@value #DEFAULT_MAX_TOKENS}
 * @param maxPromptChars   longest prompt or classify text in characters; default {@value #DEFAULT_MAX_PROMPT_CHARS}
 * @param maxTexts         most texts in one classify request; default {@value #DEFAULT_MAX_TEXTS}
 * @param maxBodyBytes     largest request body; default {@value #DEFAULT_MAX_BODY_BYTES}
 * @param readTimeoutMs    longest a client may take to send its request body (and longest
 *                         silence on a connection); default {@value #DEFAULT_READ_TIMEOUT_MS}
 * @param shutdownGraceMs  how long shutdown waits for requests in flight; default {@value #DEFAULT_SHUTDOWN_GRACE_MS}
 * @param computeThreads   BLAS threads of the model's products (the decode step, a classify
 *                         forward); libnd4j's op pool runs on one. Default {@value #DEFAULT_COMPUTE_THREADS}:
 *                         on 2 cores a decode step of 8 rows took 2x as long with two BLAS threads
 *                         as with one (OpenBLAS splits small-row products badly, and its threads
 *                         compete with the HTTP threads), while one row gained nothing from two
 * @param apiKey           the key clients must send as {@code Authorization: Bearer KEY}, or null
 *                         for none; never printed (see {@link #toString()})
 */
public record ServeSettings(String host, int port, int maxBatch, int queueCapacity, int maxTokens, int maxPromptChars,
    int maxTexts, int maxBodyBytes, int readTimeoutMs, int shutdownGraceMs, int computeThreads, String apiKey) {

  /** Default bind address: loopback. */
  public static final String DEFAULT_HOST = "127.0.0.1";
  /** Default port. */
  public static final int DEFAULT_PORT = 8080;
  /** Default rows per decode step / texts per classify forward. */
  public static final int DEFAULT_MAX_BATCH = 32;
  /** Default waiting requests per queue. */
  public static final int DEFAULT_QUEUE_CAPACITY = 64;
  /** Default cap on max_tokens. */
  public static final int DEFAULT_MAX_TOKENS = 512;
  /** Default cap on a prompt's or text's characters. */
  public static final int DEFAULT_MAX_PROMPT_CHARS = 16_384;
  /** Default cap on texts per classify request. */
  public static final int DEFAULT_MAX_TEXTS = 64;
  /** Default cap on a request body: 1 MiB. */
  public static final int DEFAULT_MAX_BODY_BYTES = 1 << 20;
  /** Default read timeout: 10 s. */
  public static final int DEFAULT_READ_TIMEOUT_MS = 10_000;
  /** Default shutdown grace: 30 s. */
  public static final int DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
  /** Default BLAS threads for the models' products. */
  public static final int DEFAULT_COMPUTE_THREADS = 1;

  /** Validates every field; messages name the field, the value and what to use instead. */
  public ServeSettings {
    require(host != null && !host.isBlank(), "host", host, "use an address such as 127.0.0.1 or 0.0.0.0");
    require(port >= 0 && port <= 65535, "port", port, "use 0 (any free port) to 65535");
    require(maxBatch >= 1 && maxBatch <= 256, "maxBatch", maxBatch, "use 1 (no batching) to 256");
    require(queueCapacity >= 1, "queueCapacity", queueCapacity, "use at least 1");
    require(maxTokens >= 1, "maxTokens", maxTokens, "use at least 1");
    require(maxPromptChars >= 1, "maxPromptChars", maxPromptChars, "use at least 1");
    require(maxTexts >= 1, "maxTexts", maxTexts, "use at least 1");
    require(maxBodyBytes >= 1024, "maxBodyBytes", maxBodyBytes, "use at least 1024");
    require(readTimeoutMs >= 100, "readTimeoutMs", readTimeoutMs, "use at least 100 ms");
    require(shutdownGraceMs >= 0, "shutdownGraceMs", shutdownGraceMs, "use 0 (stop at once) or more");
    require(computeThreads >= 1 && computeThreads <= 1024, "computeThreads", computeThreads,
        "use 1 (the default) to the machine's cores");
    require(apiKey == null || !apiKey.isBlank(), "apiKey", "(blank)",
        "put a non-empty key in the file, or leave the option out");
  }

  /** Every default: loopback, port 8080, no API key. */
  public static ServeSettings defaults() {
    return new ServeSettings(DEFAULT_HOST, DEFAULT_PORT, DEFAULT_MAX_BATCH, DEFAULT_QUEUE_CAPACITY, DEFAULT_MAX_TOKENS,
        DEFAULT_MAX_PROMPT_CHARS, DEFAULT_MAX_TEXTS, DEFAULT_MAX_BODY_BYTES, DEFAULT_READ_TIMEOUT_MS,
        DEFAULT_SHUTDOWN_GRACE_MS, DEFAULT_COMPUTE_THREADS, null);
  }

  /** These settings on another address. */
  public ServeSettings withAddress(String newHost, int newPort) {
    return new ServeSettings(newHost, newPort, maxBatch, queueCapacity, maxTokens, maxPromptChars, maxTexts,
        maxBodyBytes, readTimeoutMs, shutdownGraceMs, computeThreads, apiKey);
  }

  /** These settings with other batching and queue sizes. */
  public ServeSettings withBatching(int newMaxBatch, int newQueueCapacity) {
    return new ServeSettings(host, port, newMaxBatch, newQueueCapacity, maxTokens, maxPromptChars, maxTexts,
        maxBodyBytes, readTimeoutMs, shutdownGraceMs, computeThreads, apiKey);
  }

  /** These settings with other request limits. */
  public ServeSettings withLimits(int newMaxTokens, int newMaxPromptChars, int newMaxBodyBytes, int newReadTimeoutMs) {
    return new ServeSettings(host, port, maxBatch, queueCapacity, newMaxTokens, newMaxPromptChars, maxTexts,
        newMaxBodyBytes, newReadTimeoutMs, shutdownGraceMs, computeThreads, apiKey);
  }

  /** These settings with another shutdown grace. */
  public ServeSettings withShutdownGrace(int newShutdownGraceMs) {
    return new ServeSettings(host, port, maxBatch, queueCapacity, maxTokens, maxPromptChars, maxTexts, maxBodyBytes,
        readTimeoutMs, newShutdownGraceMs, computeThreads, apiKey);
  }

  /** These settings with another BLAS thread count. */
  public ServeSettings withComputeThreads(int newComputeThreads) {
    return new ServeSettings(host, port, maxBatch, queueCapacity, maxTokens, maxPromptChars, maxTexts, maxBodyBytes,
        readTimeoutMs, shutdownGraceMs, newComputeThreads, apiKey);
  }

  /** These settings with the API key read from {@code keyFile} (its first line, trimmed). */
  public ServeSettings withApiKeyFile(Path keyFile) throws IOException {
    if (!Files.isRegularFile(keyFile)) {
      throw new IllegalArgumentException("--api-key-file must be a readable file, but found no file at " + keyFile
          + "; write the key on its first line, e.g. openssl rand -hex 32 > key.txt");
    }
    String key = Files.readAllLines(keyFile, StandardCharsets.UTF_8).stream().findFirst().orElse("").trim();
    if (key.isEmpty()) {
      throw new IllegalArgumentException("--api-key-file " + keyFile + " is empty; write the key on its first line");
    }
    return new ServeSettings(host, port, maxBatch, queueCapacity, maxTokens, maxPromptChars, maxTexts, maxBodyBytes,
        readTimeoutMs, shutdownGraceMs, computeThreads, key);
  }

  /** Every field but the API key, which shows only as set or not. */
  @Override
  public String toString() {
    return "ServeSettings[host=" + host + ", port=" + port + ", maxBatch=" + maxBatch + ", queueCapacity="
        + queueCapacity + ", maxTokens=" + maxTokens + ", maxPromptChars=" + maxPromptChars + ", maxTexts=" + maxTexts
        + ", maxBodyBytes=" + maxBodyBytes + ", readTimeoutMs=" + readTimeoutMs + ", shutdownGraceMs="
        + shutdownGraceMs + ", computeThreads=" + computeThreads + ", apiKey=" + (apiKey == null ? "none" : "[redacted]") + "]";
  }

  private static void require(boolean ok, String field, Object found, String hint) {
    if (!ok) {
      throw new IllegalArgumentException("serve setting " + field + " is invalid: found " + found + "; " + hint);
    }
  }
}
