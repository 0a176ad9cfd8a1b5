// DatasetSpec: what to read and how to cut it, validated once in the compact constructor.
// It is NOT the training config: model sizes, steps and batch sizes live elsewhere; this
// record only holds what the data pipeline needs.
package org.ringtrain.driver.data;

import org.ringtrain.driver.shards.TokenShardReader;
import org.ringtrain.driver.tokenize.Tokenizer;

/**
 * What {@link CorpusLoader#load} reads and how it cuts it. Every field is checked when the
 * record is built; messages name the field, the value found and the accepted range.
 *
 * @param path any Hadoop FileSystem path ({@code file:}, {@code hdfs:}, {@code s3a:}, or
 *     scheme-less for the default FileSystem): a file, a directory (read recursively, files
 *     whose names start with {@code .} or {@code _} skipped) or a glob
 * @param format {@link Format#TEXT} (default) or {@link Format#SHARDS}
 * @param tokenizerId one of {@link Tokenizer#KNOWN_IDS}; default {@value Tokenizer#DEFAULT_ID}
 * @param contextLength T, the model's context; sequences hold T+1 tokens; at least 1
 * @param validationFraction the last fraction of all sequences held out for validation, in
 *     {@code [0, 1)}; default {@value #DEFAULT_VALIDATION_FRACTION}
 * @param worldSize number of ranks (training partitions); at least 1
 */
public record DatasetSpec(
    String path,
    Format format,
    String tokenizerId,
    int contextLength,
    double validationFraction,
    int worldSize) {

  /** Default held-out fraction: {@value}. */
  public static final double DEFAULT_VALIDATION_FRACTION = 0.05;

  /** How the files under {@link #path} are stored. */
  public enum Format {
    /** Text files, tokenized on the executors with the spec's tokenizer. */
    TEXT,
    /** Pretokenized llm.c shards (magic 20240520, uint16 tokens); see {@link TokenShardReader}. */
    SHARDS
  }

  /** Validates every field; see the record description for the accepted values. */
  public DatasetSpec {
    if (path == null || path.isBlank()) {
      throw new IllegalArgumentException(
          "path: expected a file, directory or glob on a Hadoop FileSystem, found "
              + (path == null ? "null" : "an empty string"));
    }
    if (format == null) {
      throw new IllegalArgumentException("format: expected TEXT or SHARDS, found null");
    }
    if (!Tokenizer.KNOWN_IDS.contains(tokenizerId)) {
      throw new IllegalArgumentException(
          "tokenizerId: expected one of " + Tokenizer.KNOWN_IDS + ", found '" + tokenizerId + "'");
    }
    if (contextLength < 1) {
      throw new IllegalArgumentException(
          "contextLength: expected at least 1, found " + contextLength);
    }
    if (!(validationFraction >= 0.0 && validationFraction < 1.0)) {
      throw new IllegalArgumentException(
          "validationFraction: expected a value in [0, 1) such as 0.05, found "
              + validationFraction);
    }
    if (worldSize < 1) {
      throw new IllegalArgumentException("worldSize: expected at least 1, found " + worldSize);
    }
  }

  /**
   * A TEXT spec with the default tokenizer ({@value Tokenizer#DEFAULT_ID}) and validation
   * fraction ({@value #DEFAULT_VALIDATION_FRACTION}).
   */
  public static DatasetSpec text(String path, int contextLength, int worldSize) {
    return new DatasetSpec(
        path, Format.TEXT, Tokenizer.DEFAULT_ID, contextLength, DEFAULT_VALIDATION_FRACTION,
        worldSize);
  }

  /** This spec with another format. */
  public DatasetSpec withFormat(Format newFormat) {
    return new DatasetSpec(
        path, newFormat, tokenizerId, contextLength, validationFraction, worldSize);
  }

  /** This spec with another path. */
  public DatasetSpec withPath(String newPath) {
    return new DatasetSpec(
        newPath, format, tokenizerId, contextLength, validationFraction, worldSize);
  }

  /** This spec with another tokenizer id. */
  public DatasetSpec withTokenizerId(String newTokenizerId) {
    return new DatasetSpec(
        path, format, newTokenizerId, contextLength, validationFraction, worldSize);
  }

  /** This spec with another validation fraction. */
  public DatasetSpec withValidationFraction(double newFraction) {
    return new DatasetSpec(path, format, tokenizerId, contextLength, newFraction, worldSize);
  }

  /** This spec with another world size. */
  public DatasetSpec withWorldSize(int newWorldSize) {
    return new DatasetSpec(
        path, format, tokenizerId, contextLength, validationFraction, newWorldSize);
  }

  /** The tokenizer named by {@link #tokenizerId}. */
  public Tokenizer tokenizer() {
    return Tokenizer.forId(tokenizerId);
  }

  /** Tokens per packed sequence: {@code contextLength + 1} (inputs plus the last target). */
  public int sequenceLength() {
    return contextLength + 1;
  }
}
