// One rank's share of the data, handed from the data stage to the barrier
// task inside one partition (never serialised across the network).
package org.ringtrain.driver.train;

import java.io.Serializable;

/**
 * A rank's training and validation sequences, each {@code contextLength + 1} token ids.
 *
 * @param train      training sequences of this rank
 * @param validation validation sequences of this rank (may be empty)
 */
record RankData(int[][] train, int[][] validation) implements Serializable {
}
