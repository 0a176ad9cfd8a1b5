// Proves the manifest check bites: every bad manifest in src/test/resources/k8s/bad/ (missing GPU
// quantity, unquoted numbers and booleans in sparkConf, misspelt fields...) is rejected with the
// error its "# expect:" line names, while a valid manifest using the Kubernetes schema
// extensions passes. It does not check ringtrain's own manifests (SparkApplicationManifestTest).
package org.ringtrain.jobs.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SparkApplicationSchemaTest {
  private static final Path RESOURCES = Path.of("src/test/resources/k8s");
  private static SparkApplicationSchema schema;

  @TempDir
  Path tmp;

  @BeforeAll
  static void loadCrd() throws IOException {
    schema = SparkApplicationSchema.load(RepoFiles.file("k8s/crd/sparkoperator.k8s.io_sparkapplications.yaml"));
  }

  static Stream<Path> badManifests() throws IOException {
    try (Stream<Path> files = Files.list(RESOURCES.resolve("bad"))) {
      List<Path> all = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
      assertTrue(all.size() >= 3, "bad manifests in " + RESOURCES.resolve("bad"));
      return all.stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badManifests")
  void rejectsEachBadManifestWithTheErrorItsExpectLineNames(Path file) throws IOException {
    String expected = Files.readAllLines(file).stream().filter(l -> l.startsWith("# expect: ")).findFirst()
        .map(l -> l.substring("# expect: ".length())).orElseThrow(() -> new AssertionError(file
            + " needs a '# expect: <error fragment>' line"));
    List<String> errors = schema.validate(SparkApplicationSchema.readYaml(file));
    assertFalse(errors.isEmpty(), file + " should be rejected");
    assertTrue(errors.stream().anyMatch(e -> e.contains(expected)),
        file + ": expected an error containing '" + expected + "' but got " + errors);
  }

  @Test
  void acceptsIntOrStringQuantitiesAndAnyFieldInThePodTemplate() throws IOException {
    assertEquals(List.of(), schema.validate(SparkApplicationSchema.readYaml(RESOURCES.resolve("good/minimal.yaml"))));
  }

  @Test
  void rejectsAQuantityThatIsNeitherIntegerNorString() throws IOException {
    ObjectNode manifest = minimal();
    ((ObjectNode) manifest.at("/spec/batchSchedulerOptions/resources")).put("cpu", true);
    assertTrue(schema.validate(manifest).stream().anyMatch(e -> e.contains("/spec/batchSchedulerOptions/resources/cpu")),
        schema.validate(manifest).toString());
  }

  @Test
  void rejectsAStatusAndUnknownMetadataFields() throws IOException {
    ObjectNode manifest = minimal();
    manifest.putObject("status").put("executionAttempts", 1);
    ((ObjectNode) manifest.get("metadata")).put("lables", "x");
    List<String> errors = schema.validate(manifest);
    assertTrue(errors.stream().anyMatch(e -> e.contains("'status'")), errors.toString());
    assertTrue(errors.stream().anyMatch(e -> e.contains("'lables'")), errors.toString());
  }

  @Test
  void rejectsMissingRequiredSpecFields() throws IOException {
    ObjectNode manifest = minimal();
    ((ObjectNode) manifest.get("spec")).remove("mainApplicationFile");
    assertTrue(schema.validate(manifest).stream().anyMatch(e -> e.contains("mainApplicationFile")));
  }

  @Test
  void refusesDuplicateKeysAndMultipleDocuments() throws IOException {
    Path duplicate = Files.writeString(tmp.resolve("dup.yaml"), "a: 1\na: 2\n");
    assertThrows(IOException.class, () -> SparkApplicationSchema.readYaml(duplicate));
    Path two = Files.writeString(tmp.resolve("two.yaml"), "a: 1\n---\nb: 2\n");
    assertThrows(IOException.class, () -> SparkApplicationSchema.readYaml(two));
  }

  @Test
  void closesEveryObjectSchemaExceptThePreservedPodTemplates() {
    int[] open = {0};
    walk(schema.jsonSchema(), "", open);
    assertEquals(2, open[0], "exactly the driver and executor pod templates keep unknown fields");
  }

  private static void walk(JsonNode node, String path, int[] open) {
    if (node.isObject()) {
      if (node.has("properties") || "object".equals(node.path("type").asText())) {
        if (!node.has("additionalProperties")) {
          assertTrue(path.endsWith("/template"), "object schema without additionalProperties at " + path);
          open[0]++;
        }
      }
      node.fields().forEachRemaining(f -> walk(f.getValue(), path + "/" + f.getKey(), open));
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        walk(node.get(i), path + "/" + i, open);
      }
    }
  }

  private static ObjectNode minimal() {
    try {
      return (ObjectNode) SparkApplicationSchema.readYaml(RESOURCES.resolve("good/minimal.yaml"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
