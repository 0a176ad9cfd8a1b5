// One token's share in a prediction, as an explanation reports it.
package org.ringtrain.driver.classify;

import java.io.Serializable;

/**
 * How much one token moved a prediction.
 *
 * @param token    the token as it appeared in the row
 * @param position its index in the row (0-based, among the tokens the model saw)
 * @param weight   positive pushed towards the predicted class, negative away from it. Occlusion:
 *                 the predicted class's log-odds, ln(p / (1 - p)), with the token minus without it.
 *                 LIME: the token's coefficient in a local linear model of the predicted class's
 *                 probability (how much keeping the token adds to it)
 */
public record TokenWeight(String token, int position, double weight) implements Serializable {
}
