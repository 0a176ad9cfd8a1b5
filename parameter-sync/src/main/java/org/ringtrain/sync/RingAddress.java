// What a rank publishes through the rendezvous: where it listens on TCP and,
// when it offers one, the Unix domain socket its same-host neighbours may use
// instead, with the host identity that says who counts as "same host". One
// string form travels through Spark's allGather; the plain "host:port" of
// earlier versions is still a valid (TCP-only) address.
package org.ringtrain.sync;

import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * A rank's listening addresses.
 *
 * <p>String form ({@link #format()}, {@link #parse}):
 * <pre>
 *   host:port                                      TCP only (IPv6 hosts in brackets: [::1]:4242)
 *   host:port;host-id=ID;unix=PATH                 TCP, and a Unix domain socket on host ID
 * </pre>
 * ID is 1 to 64 characters of {@code [A-Za-z0-9._-]}; PATH is an absolute path, URL-encoded
 * (UTF-8), so it never contains ';'.
 *
 * @param tcp        where the rank listens on TCP; every rank has one
 * @param hostId     identity of the rank's host (see {@link LinkTransport}), or null when the rank
 *                   offers no Unix socket
 * @param unixSocket the rank's Unix domain socket file, or null; null exactly when hostId is
 */
public record RingAddress(InetSocketAddress tcp, String hostId, Path unixSocket) {
  private static final Pattern HOST_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final String HOST_ID_KEY = "host-id=";
  private static final String UNIX_KEY = "unix=";
  private static final String EXPECTED = "expected host:port or host:port;host-id=ID;unix=PATH";

  public RingAddress {
    if (tcp == null) {
      throw new IllegalArgumentException("a ring address needs a TCP address, but found null");
    }
    if ((hostId == null) != (unixSocket == null)) {
      throw new IllegalArgumentException("hostId and unixSocket come together, but found hostId " + hostId
          + " and unixSocket " + unixSocket);
    }
    if (hostId != null && !HOST_ID.matcher(hostId).matches()) {
      throw new IllegalArgumentException("hostId must be 1 to 64 of [A-Za-z0-9._-], but found '" + hostId + "'");
    }
    if (unixSocket != null && !unixSocket.isAbsolute()) {
      throw new IllegalArgumentException("unixSocket must be an absolute path, but found " + unixSocket);
    }
  }

  /** A TCP-only address, as every rank of an earlier version published. */
  public static RingAddress tcpOnly(InetSocketAddress tcp) {
    return new RingAddress(tcp, null, null);
  }

  /**
   * Whether a link from this rank to {@code peer} should try the peer's Unix socket: both offer
   * one and both are on the same host.
   */
  public boolean sharesHostWith(RingAddress peer) {
    return hostId != null && peer.hostId != null && hostId.equals(peer.hostId);
  }

  /** The string form described in the class doc. */
  public String format() {
    String host = tcp.getHostString();
    String hostPort = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + tcp.getPort();
    if (hostId == null) {
      return hostPort;
    }
    return hostPort + ";" + HOST_ID_KEY + hostId + ";" + UNIX_KEY
        + URLEncoder.encode(unixSocket.toString(), StandardCharsets.UTF_8);
  }

  /**
   * Parses what rank {@code rank} published.
   *
   * @throws RingException (RENDEZVOUS) naming the rank, the string and what is wrong with it
   */
  public static RingAddress parse(String published, int rank) throws RingException {
    if (published == null || published.isEmpty()) {
      throw malformed(published, rank, "it is empty");
    }
    String[] parts = published.split(";", -1);
    InetSocketAddress tcp = parseHostPort(parts[0], published, rank);
    if (parts.length == 1) {
      return tcpOnly(tcp);
    }
    if (parts.length != 3 || !parts[1].startsWith(HOST_ID_KEY) || !parts[2].startsWith(UNIX_KEY)) {
      throw malformed(published, rank, "after host:port it must carry exactly ';" + HOST_ID_KEY + "ID;"
          + UNIX_KEY + "PATH'");
    }
    String hostId = parts[1].substring(HOST_ID_KEY.length());
    if (!HOST_ID.matcher(hostId).matches()) {
      throw malformed(published, rank, "host-id must be 1 to 64 of [A-Za-z0-9._-]");
    }
    Path socket;
    try {
      socket = Path.of(URLDecoder.decode(parts[2].substring(UNIX_KEY.length()), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) { // a bad %-escape, or InvalidPathException
      throw malformed(published, rank, "the unix socket path does not decode: " + e.getMessage());
    }
    if (!socket.isAbsolute()) {
      throw malformed(published, rank, "the unix socket path must be absolute");
    }
    return new RingAddress(tcp, hostId, socket);
  }

  private static InetSocketAddress parseHostPort(String hostPort, String published, int rank)
      throws RingException {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw malformed(published, rank, "'" + hostPort + "' is not host:port");
    }
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw malformed(published, rank, "the port is not a number");
    }
    if (host.isEmpty() || port < 1 || port > 65535) {
      throw malformed(published, rank, "host must be non-empty and port in [1, 65535]");
    }
    return new InetSocketAddress(host, port); // an unknown host stays unresolved; connecting names the peer
  }

  private static RingException malformed(String published, int rank, String problem) {
    return new RingException(null, RingException.Operation.RENDEZVOUS, "rank " + rank + " published '"
        + published + "': " + problem + "; " + EXPECTED);
  }
}
