// train-classifier's flags as picocli parses them, without Spark: length grouping's default and its
// two spellings. The job itself runs in ClassifierJobsTest.
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TrainClassifierCommandTest {

  @ParameterizedTest(name = "''{0}'' -> {1}")
  @CsvSource({"'', false", "--group-by-length, true", "--no-group-by-length, false"})
  void groupByLengthIsOffByDefaultAndTakesBothSpellings(String flag, boolean expected) {
    List<String> args = new ArrayList<>(List.of("train-classifier", "--input", "in.jsonl", "--model-dir", "m"));
    if (!flag.isEmpty()) {
      args.add(flag);
    }
    CommandLine.ParseResult parsed = new CommandLine(new RingtrainCli()).parseArgs(args.toArray(String[]::new));
    TrainClassifierCommand command = (TrainClassifierCommand) parsed.subcommand().commandSpec().userObject();
    assertEquals(expected, command.groupByLength);
  }
}
