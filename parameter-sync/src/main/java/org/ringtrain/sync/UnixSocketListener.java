// A rank's Unix domain socket for same-host neighbours, in a fresh directory
// that only this user can enter (0700): the directory, not the socket file's
// own mode, is what keeps other local users out, and the handshake still
// authenticates whoever connects. Lives only for the connection set-up; close()
// removes the socket file and the directory. Not used with LinkTransport.TCP.
package org.ringtrain.sync;

import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A listening Unix domain socket in a private directory. */
final class UnixSocketListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(UnixSocketListener.class);
  /** Prefix of the private directory's name; 12 random hex digits follow. */
  static final String DIRECTORY_PREFIX = "ringtrain-";
  static final String SOCKET_NAME = "ring.sock";
  /** Tries at a fresh directory name before giving up on a base directory. */
  private static final int NAME_ATTEMPTS = 8;
  private static final SecureRandom RANDOM = new SecureRandom();

  final Path directory;
  final Path socket;
  final ServerSocketChannel server;

  private UnixSocketListener(Path directory, Path socket, ServerSocketChannel server) {
    this.directory = directory;
    this.socket = socket;
    this.server = server;
  }

  /**
   * Listens in a new private directory under {@code config.socketDir()}, or, when that is null,
   * under java.io.tmpdir and then /tmp (a path too long for a socket, over ~107 bytes on Linux,
   * moves on to the next). Returns null, logged at info, when no directory works: the rank then
   * offers TCP only.
   */
  static UnixSocketListener open(RingConfig config, int rank) {
    Set<Path> bases = new LinkedHashSet<>();
    if (config.socketDir() != null) {
      bases.add(Path.of(config.socketDir()));
    } else {
      bases.add(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath());
      bases.add(Path.of("/tmp"));
    }
    List<String> problems = new ArrayList<>();
    for (Path base : bases) {
      Path directory = null;
      ServerSocketChannel server = null;
      try {
        directory = createPrivateDirectory(base);
        Path socket = directory.resolve(SOCKET_NAME);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.setOption(StandardSocketOptions.SO_RCVBUF, config.socketBufferBytes());
        server.bind(UnixDomainSocketAddress.of(socket), RingConnector.ACCEPT_BACKLOG);
        return new UnixSocketListener(directory, socket, server);
      } catch (IOException | UnsupportedOperationException | SecurityException e) {
        // Unsupported: a file system without POSIX permissions; a SocketException: path too long.
        problems.add(base + ": " + (e instanceof SocketException ? e.getMessage() : e.toString()));
        RingLinks.closeQuietly(server);
        deleteQuietly(directory == null ? null : directory.resolve(SOCKET_NAME));
        deleteQuietly(directory);
      }
    }
    LOG.info("rank {}: no Unix domain socket for same-host neighbours ({}); its links use TCP. Set "
        + "RingConfig.socketDir to a short, writable local directory to use one", rank, String.join("; ", problems));
    return null;
  }

  /**
   * A new directory under {@code base}, created with mode 0700 in the same system call (a umask
   * can only take permissions away). Its name is short because a socket path must fit in ~107
   * bytes: Files.createTempDirectory would add up to 20 digits.
   */
  private static Path createPrivateDirectory(Path base) throws IOException {
    FileAttribute<Set<PosixFilePermission>> ownerOnly =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    for (int attempt = 1; ; attempt++) {
      Path directory = base.resolve(DIRECTORY_PREFIX + HexFormat.of().toHexDigits(RANDOM.nextLong()).substring(4));
      try {
        return Files.createDirectory(directory, ownerOnly);
      } catch (FileAlreadyExistsException e) {
        if (attempt == NAME_ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  /** Stops listening and removes the socket file and the directory. Idempotent. */
  @Override
  public void close() {
    RingLinks.closeQuietly(server);
    deleteQuietly(socket); // closing the channel leaves the file behind
    deleteQuietly(directory);
  }

  private static void deleteQuietly(Path path) {
    if (path == null) {
      return;
    }
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      LOG.warn("could not delete {}: {}", path, e.toString());
    }
  }
}
