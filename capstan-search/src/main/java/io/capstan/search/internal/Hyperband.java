package io.capstan.search.internal;

import io.capstan.search.Parameter;
import io.capstan.search.ParameterType;
import io.capstan.search.SearchAlgorithm;
import io.capstan.search.SearchSpace;
import io.capstan.search.Suggestion;
import io.capstan.search.Trial;
import io.capstan.search.TrialState;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Katib's {@code hyperband}: brackets {@code s = s_max .. 0} with {@code s_max = floor(log_eta(r_l))}; bracket
 * {@code s} starts {@code n = ceil((s_max + 1) eta^s / (s + 1))} random configurations with resource
 * {@code r_l eta^-s}, and each later rung re-runs the best {@code 1/eta} of the previous one with {@code eta} times
 * the resource. The resource goes into the parameter named by {@code resource_name}. A rung starts only when the
 * previous one has finished, so the algorithm answers with nothing while it waits.
 *
 * <p>Labels: {@value #BRACKET} and {@value #RUNG} place a trial; a promoted trial also has {@value #PARENT}, the
 * name of the trial it continues (so it may resume that trial's checkpoint).
 */
public final class Hyperband implements SearchAlgorithm {
    public static final String BRACKET = "hyperband-bracket";
    public static final String RUNG = "hyperband-rung";
    public static final String PARENT = "hyperband-parent";

    private final long seed;
    private final String resourceName;
    private final double eta;
    private final double maxResource;

    public Hyperband(long seed, String resourceName, double eta, double maxResource) {
        this.seed = seed;
        this.resourceName = resourceName;
        this.eta = eta;
        this.maxResource = maxResource;
    }

    int maxBracket() {
        return (int) Math.floor(Math.log(maxResource) / Math.log(eta) + 1e-9);
    }

    /** Configurations that bracket {@code s} starts with. */
    int initialConfigurations(int s) {
        return (int) Math.ceil((maxBracket() + 1) * Math.pow(eta, s) / (s + 1) - 1e-9);
    }

    double resource(int s, int rung) {
        return maxResource * Math.pow(eta, rung - s);
    }

    @Override
    public List<Suggestion> suggest(SearchSpace searchSpace, List<Trial> history, int count) {
        UnitSpace space = UnitSpace.of(searchSpace);
        SplittableRandom random = Seeds.forCall(seed, history.size());
        Set<Map<String, String>> seen = new HashSet<>();
        for (Trial t : history) seen.add(space.key(t.assignment()));
        List<Suggestion> suggestions = new ArrayList<>();
        for (int s = maxBracket(); s >= 0; s--) {
            int needed = initialConfigurations(s);
            for (int rung = 0; rung <= s; rung++) {
                List<Trial> here = inRung(history, s, rung);
                if (rung > 0) {
                    List<Trial> previous = finishedWithLoss(inRung(history, s, rung - 1));
                    needed = Math.min((int) Math.floor(initialConfigurations(s) * Math.pow(eta, -rung) + 1e-9), previous.size());
                    needed = Math.max(needed, Math.min(1, previous.size()));
                    if (here.size() < needed) {
                        promote(searchSpace, s, rung, previous, here, needed, count, suggestions);
                        return suggestions;
                    }
                } else if (here.size() < needed) {
                    for (int i = here.size(); i < needed && suggestions.size() < count; i++) {
                        Map<String, String> assignment = RandomSearch.freshPoint(space, random, seen);
                        if (assignment == null) return suggestions;
                        seen.add(assignment);
                        suggestions.add(new Suggestion(withResource(searchSpace, assignment, resource(s, 0)), labels(s, 0, null)));
                    }
                    return suggestions;
                }
                if (here.stream().anyMatch(t -> t.state() == TrialState.RUNNING)) return suggestions;
            }
        }
        return suggestions;
    }

    private void promote(SearchSpace searchSpace, int s, int rung, List<Trial> previous, List<Trial> here, int needed, int count,
                         List<Suggestion> suggestions) {
        Set<String> promoted = new HashSet<>();
        for (Trial t : here) promoted.add(t.labels().getOrDefault(PARENT, ""));
        List<Trial> best = previous.stream().sorted(Comparator.comparingDouble(t -> PointHistory.loss(t).orElseThrow())).limit(needed).toList();
        for (Trial parent : best) {
            if (suggestions.size() == count) return;
            if (promoted.contains(parent.name())) continue;
            suggestions.add(new Suggestion(withResource(searchSpace, parent.assignment(), resource(s, rung)), labels(s, rung, parent.name())));
        }
    }

    private List<Trial> inRung(List<Trial> history, int s, int rung) {
        String bracket = Integer.toString(s), level = Integer.toString(rung);
        return history.stream().filter(t -> bracket.equals(t.labels().get(BRACKET)) && level.equals(t.labels().get(RUNG))).toList();
    }

    private static List<Trial> finishedWithLoss(List<Trial> trials) {
        if (trials.stream().anyMatch(t -> t.state() == TrialState.RUNNING)) return List.of();
        return trials.stream().filter(t -> PointHistory.loss(t).isPresent()).toList();
    }

    private Map<String, String> withResource(SearchSpace space, Map<String, String> assignment, double resource) {
        Map<String, String> result = new LinkedHashMap<>(assignment);
        Parameter parameter = space.parameters().stream().filter(p -> p.name().equals(resourceName)).findFirst().orElseThrow();
        result.put(resourceName, parameter.type() == ParameterType.INT ? Long.toString(Math.max(1, Math.round(resource)))
                : Dimension.plainDecimal(resource));
        return result;
    }

    private static Map<String, String> labels(int s, int rung, String parent) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(BRACKET, Integer.toString(s));
        labels.put(RUNG, Integer.toString(rung));
        if (parent != null) labels.put(PARENT, parent);
        return labels;
    }
}
