/*
 * OpenApiResponses: checks a response body against what serve/openapi.json promises for its path,
 * method, status and content type, with the JSON Schema validator the deploy tests use. Test code
 * only; it does not check request bodies.
 */
package org.ringtrain.driver.serve;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Set;

final class OpenApiResponses {
  private static final String DOC = "serve/openapi.json";
  private static final JsonNode OPENAPI = read();
  private static final JsonSchemaFactory SCHEMAS = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

  private OpenApiResponses() {
  }

  private static JsonNode read() {
    try (InputStream in = OpenApiResponses.class.getClassLoader().getResourceAsStream(DOC)) {
      return ServeFixtures.JSON.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Fails unless {@code body} matches the schema the document gives this response. */
  static void check(String method, String path, int status, String contentType, JsonNode body) {
    JsonNode operation = OPENAPI.path("paths").path(path).path(method.toLowerCase());
    if (operation.isMissingNode()) {
      // Unknown paths and methods are answered with the shared error body.
      validate("#/components/schemas/Error", body, method + " " + path);
      return;
    }
    JsonNode response = resolve(operation.path("responses").path(Integer.toString(status)));
    assertTrue(!response.isMissingNode(), "openapi.json documents no " + status + " for " + method + " " + path
        + "; body: " + body);
    JsonNode schema = response.path("content").path(contentType).path("schema");
    assertNotNull(schema.get("$ref"), "openapi.json gives no " + contentType + " schema for " + status + " of " + path);
    validate(schema.get("$ref").asText(), body, method + " " + path + " " + status);
  }

  private static void validate(String ref, JsonNode body, String what) {
    JsonSchema schema = SCHEMAS.getSchema(SchemaLocation.of("classpath:" + DOC + ref));
    Set<ValidationMessage> errors = schema.validate(body);
    assertTrue(errors.isEmpty(), what + " does not match " + ref + ": " + errors + "\nbody: " + body);
  }

  private static JsonNode resolve(JsonNode node) {
    JsonNode ref = node.get("$ref");
    return ref == null ? node : OPENAPI.at(ref.asText().substring(1));
  }
}
