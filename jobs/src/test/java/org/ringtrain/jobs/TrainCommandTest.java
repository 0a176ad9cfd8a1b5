// TrainCommandTest: how the train command turns its flags into the config, for the flags that
// change validation: --unsafe-keep-one, --format and --text-column. No Spark is started; RingtrainCliTest runs the command.
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.ringtrain.driver.gpt.TrainConfig;
import picocli.CommandLine;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TrainCommandTest {

  private static TrainConfig resolve(String... args) {
    TrainCommand command = new TrainCommand();
    new CommandLine(command).parseArgs(args);
    return command.resolve();
  }

  @Test
  void keepingOneCheckpointNeedsUnsafeKeepOne() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> resolve("--input", "in.txt",
        "--checkpoint-dir", "/tmp/ckpt", "--set", "keepCheckpoints=1"));
    assertTrue(e.getMessage().contains("--unsafe-keep-one"), e.getMessage());
    TrainConfig cfg = resolve("--input", "in.txt", "--checkpoint-dir", "/tmp/ckpt", "--set", "keepCheckpoints=1",
        "--unsafe-keep-one");
    assertEquals(1, cfg.loop().checkpoints().keepCheckpoints());
    assertTrue(cfg.loop().checkpoints().unsafeKeepOne());
  }

  @Test
  void formatChoosesTheCorpusKindAndTextColumnNeedsATable() {
    assertEquals("SHARDS", resolve("--input", "in.bin", "--checkpoint-dir", "/tmp/ckpt", "--format", "shards")
        .format().name());
    assertEquals("TEXT", resolve("--input", "in.parquet", "--checkpoint-dir", "/tmp/ckpt", "--format", "parquet",
        "--text-column", "body").format().name());
    IllegalArgumentException column = assertThrows(IllegalArgumentException.class, () -> resolve("--input", "in.txt",
        "--checkpoint-dir", "/tmp/ckpt", "--text-column", "body"));
    assertTrue(column.getMessage().contains("--format one of [parquet, json, csv]"), column.getMessage());
    IllegalArgumentException format = assertThrows(IllegalArgumentException.class, () -> resolve("--input", "in.xml",
        "--checkpoint-dir", "/tmp/ckpt", "--format", "xml"));
    assertTrue(format.getMessage().contains("found 'xml'"), format.getMessage());
  }
}
