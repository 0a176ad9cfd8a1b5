// The Unix socket's private directory: owner-only while it exists, gone after
// close, and a base directory whose socket path would be too long moves on.
package org.ringtrain.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class UnixSocketListenerTest {

  @Test
  void theSocketLivesInAFreshOwnerOnlyDirectoryThatCloseRemoves(@TempDir Path base) throws Exception {
    RingConfig config = RingHarness.config("dir").withSocketDir(base.toString());
    UnixSocketListener listener = UnixSocketListener.open(config, 0);
    assertNotNull(listener);
    try {
      assertEquals(base, listener.directory.getParent());
      assertTrue(listener.directory.getFileName().toString().startsWith(UnixSocketListener.DIRECTORY_PREFIX));
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(listener.directory)));
      assertTrue(Files.exists(listener.socket), "socket file " + listener.socket);
      assertTrue(listener.server.isOpen());
    } finally {
      listener.close();
    }
    assertFalse(Files.exists(listener.socket));
    assertFalse(Files.exists(listener.directory));
    assertFalse(listener.server.isOpen());
    listener.close(); // idempotent
  }

  @Test
  void aConfiguredDirectoryWhoseSocketPathIsTooLongMeansNoUnixSocket(@TempDir Path base) throws Exception {
    Path deep = Files.createDirectories(base.resolve("d".repeat(100)));
    RingConfig config = RingHarness.config("long").withSocketDir(deep.toString());
    assertNull(UnixSocketListener.open(config, 0));
    try (var left = Files.list(deep)) {
      assertEquals(0, left.count(), "the failed attempt must remove its directory");
    }
  }

  @Test
  void aMissingConfiguredDirectoryMeansNoUnixSocket(@TempDir Path base) {
    RingConfig config = RingHarness.config("missing").withSocketDir(base.resolve("absent").toString());
    assertNull(UnixSocketListener.open(config, 0));
  }
}
