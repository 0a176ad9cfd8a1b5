// GptTableTraining: what `ringtrain train --format parquet|json|csv --text-column C` does once its
// flags are resolved into a TrainConfig: the checks that need no Spark, then read the table
// (TableInput) and fit a GptEstimator on its text column. It does not parse flags or print (the
// command does) and does not read text files or shards (CorpusLoader does).
package org.ringtrain.driver.gpt;

import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.ringtrain.driver.data.TableCorpus;
import org.ringtrain.driver.data.TableInput;
import org.ringtrain.driver.fs.HadoopSettings;
import org.ringtrain.driver.fs.Preflight;
import org.ringtrain.driver.launch.SparkJob;

/** GPT training on a text column of a CSV, JSON-lines or Parquet input, through {@link GptEstimator}. */
public final class GptTableTraining {

  /** The table formats, as the train job's {@code --format} names them. */
  public static final List<String> FORMATS = List.of("parquet", "json", "csv");

  /** Column read when none is named: {@value}. */
  public static final String DEFAULT_TEXT_COLUMN = "text";

  private GptTableTraining() {
  }

  /** Whether {@code format} (any case) is one of {@link #FORMATS}. */
  public static boolean isTable(String format) {
    return format != null && FORMATS.contains(format.toLowerCase(Locale.ROOT));
  }

  /**
   * The checks before Spark starts that write nothing: the input exists and is not empty, the ring
   * timeout, the master's slots. The checkpoint directory is checked (and created) by
   * {@link GptEstimator#fit} once the column and every row passed, so that bad input leaves nothing
   * behind.
   *
   * @return the input's size in bytes (for the memory estimate)
   * @throws IllegalArgumentException for the first check that fails, saying what to do
   */
  public static long checkBeforeStart(TrainConfig cfg, String master, HadoopSettings hadoop) {
    long bytes = Preflight.requireInput(cfg.input(), hadoop);
    TrainingPreflight.checkRingTimeout(cfg);
    TrainingPreflight.checkSlots(cfg, master);
    return bytes;
  }

  /**
   * Reads {@code cfg.input()} as {@code format} (CSV with a header row) and trains on
   * {@code textColumn} with every setting of {@code cfg}.
   *
   * @throws IllegalArgumentException for a missing or non-string column or a null text, before
   *     any training
   */
  public static TrainedGpt fit(SparkJob job, TrainConfig cfg, String format, String textColumn) {
    Dataset<Row> table = TableInput.read(job.session(), cfg.input(), format, List.of());
    TableCorpus.requireTextColumn(table.schema(), textColumn);
    return GptEstimator.of(cfg).setTextCol(textColumn).fit(table).trained();
  }
}
