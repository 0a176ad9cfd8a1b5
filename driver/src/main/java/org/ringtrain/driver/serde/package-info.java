/**
 * Spark serialisation for ringtrain: the Kryo registrator that every job sets as
 * {@code spark.kryo.registrator}, so that {@code spark.kryo.registrationRequired=true} can stay on.
 *
 * <p>Must not import Spark MLlib at compile time: MLlib classes are registered only where present.
 *
 * <p>Stability: public API (the registrator's class name appears in configs).
 */
package org.ringtrain.driver.serde;
