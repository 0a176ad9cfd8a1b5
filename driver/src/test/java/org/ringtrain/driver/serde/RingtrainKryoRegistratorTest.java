// RingtrainKryoRegistrator on a real Kryo instance, without Spark: what it registers when MLlib is on
// the classpath, that it still succeeds when MLlib is hidden by the context class loader (as on the
// benchmarks' classpath), and that a missing ringtrain class fails loudly. Not a serialisation
// test of every registered type: the Spark tests (GptTrainerTest, TextClassifierTest) cover those.
package org.ringtrain.driver.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RingtrainKryoRegistratorTest {
  private static final String LABEL_COUNTER = "org.apache.spark.mllib.evaluation.binary.BinaryLabelCounter";
  private static final String RANK_RESULT = "org.ringtrain.driver.train.RankResult";
  private static final String SHIPPED = "org.ringtrain.driver.classify.TextClassificationModel$Shipped";

  @Test
  void registersRingtrainAndMllibClassesWhenMllibIsPresent() throws Exception {
    Kryo kryo = registered(Thread.currentThread().getContextClassLoader());

    Class<?> counter = Class.forName(LABEL_COUNTER);
    assertNotNull(registration(kryo, counter), "BinaryLabelCounter is registered");
    assertNotNull(registration(kryo, Class.forName("[L" + LABEL_COUNTER + ";")), "BinaryLabelCounter[] is registered");
    assertInstanceOf(JavaSerializer.class, registration(kryo, Class.forName(RANK_RESULT)).getSerializer());
    assertInstanceOf(JavaSerializer.class, registration(kryo, Class.forName(SHIPPED)).getSerializer());
    assertNotNull(registration(kryo, Class.forName("[L" + RANK_RESULT + ";")), "RankResult[] is registered");
  }

  @Test
  void registeredArraysRoundTripWhileRegistrationIsRequired() {
    Kryo kryo = registered(Thread.currentThread().getContextClassLoader());
    int[][] sequences = {{1, 2, 3}, {4, 5}};
    Output out = new Output(256, -1);
    kryo.writeClassAndObject(out, sequences);
    Object back = kryo.readClassAndObject(new Input(out.toBytes()));
    assertArrayEquals(sequences, (int[][]) back);
  }

  @Test
  void mllibHiddenFromTheContextLoaderIsSkippedAndRingtrainClassesAreStillRegistered() throws Exception {
    Kryo kryo = registered(new HidingClassLoader("org.apache.spark.mllib."));

    // The classes exist in this JVM (MLlib is on the test classpath), but the registrator could not see them.
    assertNull(registration(kryo, Class.forName(LABEL_COUNTER)), "BinaryLabelCounter must not be registered");
    assertNull(registration(kryo, Class.forName("[L" + LABEL_COUNTER + ";")));
    assertInstanceOf(JavaSerializer.class, registration(kryo, Class.forName(RANK_RESULT)).getSerializer());
    assertNotNull(registration(kryo, float[].class), "plain arrays are registered");
  }

  @Test
  void aMissingRingtrainClassFailsNamingTheClassAndWhatToUpdate() {
    Kryo kryo = new Kryo();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> withContextLoader(new HidingClassLoader(RANK_RESULT),
            () -> new RingtrainKryoRegistrator().registerClasses(kryo)));
    assertTrue(e.getMessage().contains("expected " + RANK_RESULT), e.getMessage());
    assertTrue(e.getMessage().contains("update RingtrainKryoRegistrator.RECORDS"), e.getMessage());
    assertInstanceOf(ClassNotFoundException.class, e.getCause());
  }

  /** A Kryo that requires registration, set up by the registrator while {@code loader} is the context loader. */
  private static Kryo registered(ClassLoader loader) {
    Kryo kryo = new Kryo();
    kryo.setRegistrationRequired(true);
    withContextLoader(loader, () -> new RingtrainKryoRegistrator().registerClasses(kryo));
    return kryo;
  }

  /** Like Spark's KryoSerializer.newKryo: the registrator runs with the application's loader as context loader. */
  private static void withContextLoader(ClassLoader loader, Runnable body) {
    Thread thread = Thread.currentThread();
    ClassLoader old = thread.getContextClassLoader();
    thread.setContextClassLoader(loader);
    try {
      body.run();
    } finally {
      thread.setContextClassLoader(old);
    }
  }

  /** The registration of {@code type}, or null; Kryo.getRegistration would throw under registrationRequired. */
  private static Registration registration(Kryo kryo, Class<?> type) {
    return kryo.getClassResolver().getRegistration(type);
  }

  /** Delegates to the test's loader except for names starting with {@code hiddenPrefix}, which it reports absent. */
  private static final class HidingClassLoader extends ClassLoader {
    private final String hiddenPrefix;

    HidingClassLoader(String hiddenPrefix) {
      super(RingtrainKryoRegistratorTest.class.getClassLoader());
      this.hiddenPrefix = hiddenPrefix;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (name.startsWith(hiddenPrefix)) {
        throw new ClassNotFoundException(name + " (hidden by the test)");
      }
      return super.loadClass(name, resolve);
    }
  }
}
