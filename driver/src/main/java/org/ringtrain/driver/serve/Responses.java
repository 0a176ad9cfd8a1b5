/*
 * Responses: the few ways the server writes a response - a JSON body, a static resource, a chunk
 * of a server-sent event stream - all as blocking writes on the handler's thread, so a client that
 * went away shows up as an IOException where the route can react. It decides no status.
 */
package org.ringtrain.driver.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;

/** Blocking response writes. */
final class Responses {
  private Responses() {
  }

  /** Writes {@code body} as the whole JSON response with {@code status}. */
  static void json(Response response, int status, Object body) throws IOException {
    bytes(response, status, "application/json", JsonRequest.JSON.writeValueAsBytes(body));
  }

  /** Writes an error body {"error": {"code", "message"}} with the error's status (and Retry-After). */
  static void error(Response response, ApiError e) throws IOException {
    if (e.retryAfterSeconds > 0) {
      response.getHeaders().put(HttpHeader.RETRY_AFTER, Integer.toString(e.retryAfterSeconds));
    }
    Map<String, Object> error = new LinkedHashMap<>();
    error.put("code", e.code);
    error.put("message", e.getMessage());
    json(response, e.status, Map.of("error", error));
  }

  /** Writes {@code body} as the whole response. */
  static void bytes(Response response, int status, String contentType, byte[] body) throws IOException {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    write(response, true, body);
  }

  /** Writes a classpath resource as the whole response; 404 when it is missing. */
  static void resource(Response response, String path, String contentType) throws IOException {
    try (InputStream in = Responses.class.getResourceAsStream(path)) {
      if (in == null) {
        error(response, new ApiError(404, "not_found", "this build has no " + path));
        return;
      }
      bytes(response, 200, contentType, in.readAllBytes());
    }
  }

  /** Starts a server-sent event stream (status 200, nothing written yet). */
  static void startEvents(Response response) {
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
  }

  /** Writes one event ({@code event} null for the default "message") and flushes it to the client. */
  static void event(Response response, String event, Object data, boolean last) throws IOException {
    String json;
    try {
      json = JsonRequest.JSON.writeValueAsString(data);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("event data is not serialisable: " + data, e);
    }
    String frame = (event == null ? "" : "event: " + event + "\n") + "data: " + json + "\n\n";
    write(response, last, frame.getBytes(StandardCharsets.UTF_8));
  }

  private static void write(Response response, boolean last, byte[] bytes) throws IOException {
    try (Blocker.Callback done = Blocker.callback()) {
      response.write(last, ByteBuffer.wrap(bytes), done);
      done.block();
    }
  }
}
