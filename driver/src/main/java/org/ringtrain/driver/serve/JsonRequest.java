/*
 * JsonRequest: reading a request body under the server's limits (size cap, read deadline) and
 * taking typed fields out of the JSON object with 400s that name the field, the expected type and
 * what was found. It knows no route's meaning (see GenerateRoute, ClassifyRoute).
 */
package org.ringtrain.driver.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

/** A parsed JSON object body, and checked access to its fields. */
final class JsonRequest {
  static final ObjectMapper JSON = new ObjectMapper();

  private final ObjectNode body;

  private JsonRequest(ObjectNode body) {
    this.body = body;
  }

  /**
   * Reads and parses the body of {@code request}.
   *
   * @throws ApiError 413 over {@code maxBytes}, 408 when the body takes longer than
   *                  {@code readTimeoutMs} to arrive, 415 for a non-JSON content type, 400 for bad JSON
   */
  static JsonRequest read(Request request, int maxBytes, int readTimeoutMs) {
    String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    if (type != null && !type.toLowerCase().startsWith("application/json")) {
      throw new ApiError(415, "unsupported_media_type", "the body must be JSON (Content-Type: application/json), "
          + "but found Content-Type: " + type);
    }
    long declared = request.getLength();
    if (declared > maxBytes) {
      throw tooLarge(declared, maxBytes);
    }
    long deadline = System.nanoTime() + readTimeoutMs * 1_000_000L;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try (InputStream in = Content.Source.asInputStream(request)) {
      for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
        bytes.write(buf, 0, n);
        if (bytes.size() > maxBytes) {
          throw tooLarge(bytes.size(), maxBytes);
        }
        if (System.nanoTime() > deadline) {
          throw slow(readTimeoutMs);
        }
      }
    } catch (IOException e) {
      if (e.getCause() instanceof TimeoutException || e instanceof java.io.InterruptedIOException) {
        throw slow(readTimeoutMs);
      }
      throw new ApiError(400, "bad_request", "the request body could not be read: " + e.getMessage());
    }
    if (bytes.size() == 0) {
      throw ApiError.badRequest("the request body is empty; send a JSON object");
    }
    JsonNode node;
    try {
      node = JSON.readTree(bytes.toByteArray());
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest("the body is not valid JSON: " + e.getOriginalMessage()
          + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
    } catch (IOException e) {
      throw ApiError.badRequest("the body is not valid JSON: " + e.getMessage());
    }
    if (!(node instanceof ObjectNode object)) {
      throw ApiError.badRequest("the body must be a JSON object, but found " + kind(node));
    }
    return new JsonRequest(object);
  }

  private static ApiError tooLarge(long found, int max) {
    return new ApiError(413, "body_too_large", "the request body may be at most " + max + " bytes, but found "
        + found + "; send fewer or shorter texts per request");
  }

  private static ApiError slow(int readTimeoutMs) {
    return new ApiError(408, "request_timeout", "the request body did not arrive within " + readTimeoutMs
        + " ms; send the whole body at once");
  }

  /** Refuses fields outside {@code known}, naming them and the known ones (catches typos). */
  JsonRequest onlyFields(Set<String> known) {
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!known.contains(f)) {
        throw ApiError.badRequest("unknown field '" + f + "'; expected only " + known);
      }
    }
    return this;
  }

  /** A string field; {@code fallback} when absent or null (null fallback = required). */
  String string(String field, String fallback) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return require(field, fallback, "a string");
    }
    if (!n.isTextual()) {
      throw wrongType(field, "a string", n);
    }
    return n.asText();
  }

  /** An integer field within [min, max]; {@code fallback} when absent or null (null = required). */
  long integer(String field, Long fallback, long min, long max) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return require(field, fallback, "an integer");
    }
    if (!n.isIntegralNumber() || !n.canConvertToLong()) {
      throw wrongType(field, "an integer", n);
    }
    long v = n.asLong();
    if (v < min || v > max) {
      throw ApiError.badRequest("'" + field + "' must be between " + min + " and " + max + ", but found " + v);
    }
    return v;
  }

  /** A finite number >= 0; {@code fallback} when absent or null. */
  double nonNegative(String field, double fallback) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return fallback;
    }
    if (!n.isNumber() || !Double.isFinite(n.asDouble()) || n.asDouble() < 0) {
      throw wrongType(field, "a finite number >= 0", n);
    }
    return n.asDouble();
  }

  /** A boolean field; {@code fallback} when absent or null. */
  boolean bool(String field, boolean fallback) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return fallback;
    }
    if (!n.isBoolean()) {
      throw wrongType(field, "true or false", n);
    }
    return n.asBoolean();
  }

  /** A required array of strings with 1 to {@code maxItems} items. */
  List<String> strings(String field, int maxItems) {
    JsonNode n = body.get(field);
    if (n == null || !n.isArray()) {
      throw n == null ? ApiError.badRequest("'" + field + "' is required: an array of strings")
          : wrongType(field, "an array of strings", n);
    }
    if (n.isEmpty() || n.size() > maxItems) {
      throw ApiError.badRequest("'" + field + "' must hold 1 to " + maxItems + " strings, but found " + n.size()
          + (n.isEmpty() ? "" : "; split the texts over several requests"));
    }
    List<String> out = new ArrayList<>(n.size());
    for (int i = 0; i < n.size(); i++) {
      if (!n.get(i).isTextual()) {
        throw wrongType(field + "[" + i + "]", "a string", n.get(i));
      }
      out.add(n.get(i).asText());
    }
    return out;
  }

  private static <T> T require(String field, T fallback, String what) {
    if (fallback == null) {
      throw ApiError.badRequest("'" + field + "' is required: " + what);
    }
    return fallback;
  }

  private static ApiError wrongType(String field, String expected, JsonNode found) {
    String shown = found.toString();
    return ApiError.badRequest("'" + field + "' must be " + expected + ", but found " + kind(found) + " "
        + (shown.length() > 40 ? shown.substring(0, 40) + "..." : shown));
  }

  private static String kind(JsonNode n) {
    return n.getNodeType().name().toLowerCase();
  }
}
