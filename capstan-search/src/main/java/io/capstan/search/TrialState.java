package io.capstan.search;

/** What became of a trial, as far as a search algorithm cares. */
public enum TrialState {
    /** Suggested and not finished; its assignment must not be suggested again. */
    RUNNING,
    SUCCEEDED,
    FAILED,
    /** Stopped early by an early-stopping rule; its intermediate values still count. */
    EARLY_STOPPED
}
