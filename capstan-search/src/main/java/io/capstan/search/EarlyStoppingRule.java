package io.capstan.search;

import java.util.List;

/** Decides whether a running trial should stop because it falls behind the others. */
public interface EarlyStoppingRule {

    /** True when {@code running}, judged by its intermediate values, should be stopped now. */
    boolean shouldStop(Trial running, List<Trial> history);
}
