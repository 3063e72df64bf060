package io.capstan.search;

import java.util.List;

/**
 * Proposes trials from everything observed so far. Stateless between calls: the history is the whole state, so
 * an experiment resumed after a restart gets the suggestions it would have got without one. For the same space,
 * history, count and settings (including {@code random_state}) the answer is the same.
 */
public interface SearchAlgorithm {

    /**
     * Up to {@code count} new assignments; fewer (possibly none) when the space is exhausted, as a finished grid is,
     * or when the algorithm waits for running trials (as hyperband does between rungs).
     */
    List<Suggestion> suggest(SearchSpace space, List<Trial> history, int count);
}
