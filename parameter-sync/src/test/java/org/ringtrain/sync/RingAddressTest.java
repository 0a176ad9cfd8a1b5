// The published address string: round trips, the old "host:port" form, and
// clear errors for everything malformed.
package org.ringtrain.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class RingAddressTest {

  @Test
  void anOldStyleHostPortIsATcpOnlyAddress() throws Exception {
    RingAddress a = RingAddress.parse("10.0.0.7:41233", 2);
    assertEquals(new InetSocketAddress("10.0.0.7", 41233), a.tcp());
    assertNull(a.hostId());
    assertNull(a.unixSocket());
    assertEquals("10.0.0.7:41233", a.format());
    assertEquals(4242, RingAddress.parse("[::1]:4242", 0).tcp().getPort());
    assertEquals(4242, RingAddress.parse("::1:4242", 0).tcp().getPort()); // as earlier versions published IPv6
  }

  @Test
  void anAddressWithAUnixSocketRoundTripsEvenWithAwkwardPathCharacters() throws Exception {
    Path socket = Path.of("/tmp/odd dir;x=1%/ringtrain-7/ring.sock");
    RingAddress a = new RingAddress(new InetSocketAddress("127.0.0.1", 5000), "0123abcd", socket);
    String published = a.format();
    assertTrue(published.startsWith("127.0.0.1:5000;host-id=0123abcd;unix="), published);
    assertEquals(2, published.chars().filter(c -> c == ';').count(), published);
    assertEquals(a, RingAddress.parse(published, 0));
    RingAddress v6 = new RingAddress(new InetSocketAddress("::1", 5000), "h", Path.of("/s"));
    assertEquals(v6, RingAddress.parse(v6.format(), 0));
  }

  @Test
  void onlyAddressesWithTheSameHostIdShareAHost() {
    InetSocketAddress tcp = new InetSocketAddress("127.0.0.1", 1);
    RingAddress a = new RingAddress(tcp, "aaa", Path.of("/a"));
    assertTrue(a.sharesHostWith(new RingAddress(tcp, "aaa", Path.of("/b"))));
    assertFalse(a.sharesHostWith(new RingAddress(tcp, "bbb", Path.of("/b"))));
    assertFalse(a.sharesHostWith(RingAddress.tcpOnly(tcp)));
    assertFalse(RingAddress.tcpOnly(tcp).sharesHostWith(a));
  }

  @ParameterizedTest(name = "''{0}''")
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
      "no-port|is not host:port",
      "host:|is not host:port",
      ":80|is not host:port",
      "host:http|port is not a number",
      "host:70000|port in [1, 65535]",
      "host:80;host-id=abc|exactly ';host-id=ID;unix=PATH'",
      "host:80;unix=%2Ftmp%2Fs;host-id=abc|exactly ';host-id=ID;unix=PATH'",
      "host:80;host-id=abc;unix=%2Ftmp%2Fs;extra=1|exactly ';host-id=ID;unix=PATH'",
      "host:80;host-id=a b;unix=%2Ftmp%2Fs|host-id must be",
      "host:80;host-id=;unix=%2Ftmp%2Fs|host-id must be",
      "host:80;host-id=abc;unix=relative%2Fs|must be absolute",
      "host:80;host-id=abc;unix=%ZZ|does not decode"})
  void malformedAddressesAreRejectedNamingTheRankTheStringAndTheProblem(String published, String problem) {
    RingException e = assertThrows(RingException.class, () -> RingAddress.parse(published, 3));
    assertEquals(RingException.Operation.RENDEZVOUS, e.operation());
    assertTrue(e.getMessage().contains("rank 3 published '" + published + "'"), e.getMessage());
    assertTrue(e.getMessage().contains(problem), e.getMessage());
    assertTrue(e.getMessage().contains("expected host:port or host:port;host-id=ID;unix=PATH"), e.getMessage());
  }

  @Test
  void emptyAndNullAreRejected() {
    assertTrue(assertThrows(RingException.class, () -> RingAddress.parse("", 1)).getMessage().contains("empty"));
    assertTrue(assertThrows(RingException.class, () -> RingAddress.parse(null, 1)).getMessage().contains("empty"));
  }

  @Test
  void theRecordRefusesHalfAUnixAddress() {
    InetSocketAddress tcp = new InetSocketAddress("127.0.0.1", 1);
    assertThrows(IllegalArgumentException.class, () -> new RingAddress(tcp, "abc", null));
    assertThrows(IllegalArgumentException.class, () -> new RingAddress(tcp, null, Path.of("/s")));
    assertThrows(IllegalArgumentException.class, () -> new RingAddress(tcp, "abc", Path.of("rel")));
    assertThrows(IllegalArgumentException.class, () -> new RingAddress(null, null, null));
  }
}
