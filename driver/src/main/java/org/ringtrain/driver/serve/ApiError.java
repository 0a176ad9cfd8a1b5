/*
 * ApiError: a request the server refuses, with its HTTP status, a stable error code and a message
 * that says what was expected, what was found and what to do. It is thrown by request parsing and
 * the routes, and turned into a JSON error body by ServeHandler; it is not for server faults.
 */
package org.ringtrain.driver.serve;

/** A 4xx (or 503) answer; {@code retryAfterSeconds} > 0 adds a Retry-After header. */
final class ApiError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  final int status;
  final String code;
  final int retryAfterSeconds;

  ApiError(int status, String code, String message) {
    this(status, code, message, 0);
  }

  ApiError(int status, String code, String message, int retryAfterSeconds) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  static ApiError badRequest(String message) {
    return new ApiError(400, "bad_request", message);
  }
}
