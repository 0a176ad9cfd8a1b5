// What one rank trains and validates on, put together inside its barrier task:
// every training row of the run (the broadcast value, shared by the ranks of an
// executor JVM) and the rank's own validation partition. Never serialised itself.
package org.ringtrain.driver.train;

import java.io.Serializable;

/**
 * A rank's data; each row is one fixed-width int[] (a GPT window of {@code contextLength + 1}
 * token ids).
 *
 * @param train      every training row of the run, indexed by global row index (not a copy:
 *                   never modified)
 * @param validation validation rows of this rank (may be empty)
 */
record RankData(int[][] train, int[][] validation) implements Serializable {
}
