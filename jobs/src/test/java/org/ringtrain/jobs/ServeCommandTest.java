// `ringtrain serve` as a user runs it, up to the point where a server would start: bad flags are
// refused with what to do (exit 2) before any model loads, and the help shows runnable examples.
// Serving itself is tested in the driver (org.ringtrain.driver.serve).
package org.ringtrain.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServeCommandTest {

  @Test
  void badFlagsAreRefusedWithWhatToDo() {
    expect("serve needs at least one model, but found none; give --checkpoint-dir DIR", "serve");
    expect("serve setting port is invalid: found 70000; use 0 (any free port) to 65535",
        "serve", "--checkpoint-dir", "x", "--port", "70000");
    expect("serve setting maxBatch is invalid: found 0; use 1 (no batching) to 256",
        "serve", "--checkpoint-dir", "x", "--max-batch", "0");
    expect("--api-key-file must be a readable file, but found no file at /no/such/key",
        "serve", "--checkpoint-dir", "x", "--api-key-file", "/no/such/key");
    expect("--model-dir names 'a' twice", "serve", "--model-dir", "a=x", "--model-dir", "a=y");
    expect("--model-dir must be NAME=DIR or DIR", "serve", "--model-dir", "=x");
    expect("GPT name 'gpt' is given to both --checkpoint-dir and --weights", "serve", "--checkpoint-dir", "x",
        "--weights", "y");
    expect("--weights /no/such.safetensors is not a file; give a GPT-2 safetensors file", "serve", "--port", "0",
        "--weights", "/no/such.safetensors");
  }

  @Test
  void modelsAreNamedFromNameEqualsDirOrTheDirectory() {
    assertEquals(Map.of("gpt", "runs/a"), ServeCommand.named(List.of("runs/a"), "--checkpoint-dir", "gpt"));
    assertEquals(Map.of("sentiment", "hdfs:///m/sentiment"),
        ServeCommand.named(List.of("hdfs:///m/sentiment/"), "--model-dir", null).entrySet().stream()
            .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().replaceAll("/$", ""))));
    assertEquals(Map.of("spam", "s3a://b/m=1"), ServeCommand.named(List.of("spam=s3a://b/m=1"), "--model-dir", null));
  }

  @Test
  void helpShowsRunnableExamples() {
    CliRun help = CliRun.run("serve", "--help");
    assertEquals(0, help.status());
    assertTrue(help.out().contains("ringtrain serve --checkpoint-dir target/runs/moby --port 8080"), help.out());
    assertTrue(help.out().contains("--api-key-file"), help.out());
  }

  private static void expect(String message, String... args) {
    CliRun r = CliRun.run(args);
    assertEquals(2, r.status(), "exit status for a usage error; stderr: " + r.err());
    assertTrue(r.err().contains(message), "expected '" + message + "' in: " + r.err());
  }
}
