/*
 * TokenBlock: a bounded piece of one file's token stream, as CorpusLoader keeps it between counting
 * and routing: whole sequences of the file plus the token they share with the next block. A value;
 * it reads nothing (FileTokens cuts files into blocks) and routes nothing (CorpusLoader does).
 */
package org.ringtrain.driver.data;

import java.io.Serializable;

/**
 * Tokens {@code [firstSequence * T, firstSequence * T + tokens.length)} of file {@code file}, so
 * that its sequence {@code j} ({@link SequencePacker#sequence SequencePacker.sequence(tokens, j, T)})
 * is the file's sequence {@code firstSequence + j}, bit for bit.
 *
 * @param file          index of the file in the corpus's sorted file list
 * @param firstSequence the file's sequence number of this block's first sequence
 * @param newTokens     tokens of the file this block accounts for: all of its tokens, less the last
 *                      one when the next block starts with it; their sum over a file's blocks is the
 *                      file's token count
 * @param tokens        the block's tokens
 */
record TokenBlock(int file, long firstSequence, long newTokens, int[] tokens) implements Serializable {
}
