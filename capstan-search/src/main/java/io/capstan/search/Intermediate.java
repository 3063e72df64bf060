package io.capstan.search;

/** One intermediate objective value reported by a running trial, at a step (epoch, iteration) it names. */
public record Intermediate(long step, double loss) {
}
