package io.capstan.search.internal;

import io.capstan.search.SearchAlgorithm;
import io.capstan.search.SearchSpace;
import io.capstan.search.Suggestion;
import io.capstan.search.Trial;
import io.capstan.search.TrialState;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Katib's {@code pbt}: a population of {@code n_population} members trained in generations. Generation 0 is
 * random. When member {@code j} of generation {@code g} finishes, member {@code j} of generation {@code g + 1}
 * follows: if its loss ranks in the worst {@code truncation_threshold} of the finished members of generation
 * {@code g} (or it failed), it <em>exploits</em> a member drawn from the best {@code truncation_threshold} and
 * <em>explores</em> from that member's values (each resampled with {@code resample_probability}, else numbers
 * scaled by 0.8 or 1.2 and listed values moved to a neighbour); otherwise it continues from itself unchanged.
 *
 * <p>Labels, Katib's own where Katib has them:
 * <ul>
 *   <li>{@value #GENERATION}: the trial's generation;</li>
 *   <li>{@value #PARENT}: the name of the trial whose checkpoint this trial starts from (absent in generation 0);</li>
 *   <li>{@value #MEMBER}: the trial's place in the population (Capstan's; Katib keeps it in its service's memory).</li>
 * </ul>
 * As in Katib, each trial has its own checkpoint folder, which starts as a copy of its parent's; the trial runner
 * makes it and maps {@code suggestion_trial_dir} in the trial's command to it.
 */
public final class PopulationBasedTraining implements SearchAlgorithm {
    public static final String GENERATION = "pbt.suggestion.katib.kubeflow.org/generation";
    public static final String PARENT = "pbt.suggestion.katib.kubeflow.org/parent";
    public static final String MEMBER = "pbt.suggestion.capstan.io/member";
    /** The labels of experiments started before Capstan used Katib's names, still read so that they resume. */
    private static final String LEGACY_GENERATION = "pbt-generation";
    private static final String LEGACY_MEMBER = "pbt-member";

    /** What the algorithm is configured with; a negative resample probability means "never resample". */
    public record Config(long seed, int population, double truncation, double resampleProbability) {
    }

    private record Member(int generation, int index) {
    }

    private final Config config;

    public PopulationBasedTraining(Config config) {
        this.config = config;
    }

    @Override
    public List<Suggestion> suggest(SearchSpace searchSpace, List<Trial> history, int count) {
        UnitSpace space = UnitSpace.of(searchSpace);
        SplittableRandom random = Seeds.forCall(config.seed, history.size());
        Map<Member, Trial> members = new HashMap<>();
        int lastGeneration = 0;
        for (Trial t : history) {
            String g = t.labels().getOrDefault(GENERATION, t.labels().get(LEGACY_GENERATION));
            String j = t.labels().getOrDefault(MEMBER, t.labels().get(LEGACY_MEMBER));
            if (g == null || j == null) continue;
            Member m = new Member(Integer.parseInt(g), Integer.parseInt(j));
            members.put(m, t);
            lastGeneration = Math.max(lastGeneration, m.generation());
        }
        List<Suggestion> suggestions = new ArrayList<>();
        for (int j = 0; j < config.population && suggestions.size() < count; j++) {
            if (!members.containsKey(new Member(0, j))) {
                suggestions.add(new Suggestion(space.assignment(RandomSearch.draw(space, random)), labels(0, j, null)));
            }
        }
        for (int g = 0; g <= lastGeneration && suggestions.size() < count; g++) {
            List<Trial> ranked = ranked(members, g);
            for (int j = 0; j < config.population && suggestions.size() < count; j++) {
                Trial current = members.get(new Member(g, j));
                if (current == null || current.state() == TrialState.RUNNING || members.containsKey(new Member(g + 1, j))) continue;
                suggestions.add(successor(space, current, ranked, g + 1, j, random));
            }
        }
        return suggestions;
    }

    /** The finished members of generation {@code g} with a loss, best first. */
    private static List<Trial> ranked(Map<Member, Trial> members, int g) {
        return members.entrySet().stream().filter(e -> e.getKey().generation() == g).map(Map.Entry::getValue)
                .filter(t -> PointHistory.loss(t).isPresent())
                .sorted(Comparator.comparingDouble(t -> PointHistory.loss(t).orElseThrow())).toList();
    }

    private Suggestion successor(UnitSpace space, Trial current, List<Trial> ranked, int generation, int index, SplittableRandom random) {
        int rank = ranked.indexOf(current);
        int cut = Math.max(1, (int) Math.ceil(config.truncation * ranked.size()));
        boolean lagging = rank < 0 || (ranked.size() > 1 && rank >= ranked.size() - cut);
        if (!lagging || ranked.isEmpty()) {
            return new Suggestion(current.assignment(), labels(generation, index, current.name()));
        }
        Trial leader = ranked.get(random.nextInt(Math.min(cut, ranked.size())));
        return new Suggestion(explore(space, leader.assignment(), random), labels(generation, index, leader.name()));
    }

    private Map<String, String> explore(UnitSpace space, Map<String, String> assignment, SplittableRandom random) {
        Map<String, String> explored = new LinkedHashMap<>(assignment);
        for (Dimension dimension : space.dimensions()) {
            String text = assignment.get(dimension.name());
            if (text == null || random.nextDouble() < config.resampleProbability) {
                explored.put(dimension.name(), dimension.text(random.nextDouble()));
                continue;
            }
            boolean up = random.nextBoolean();
            explored.put(dimension.name(), switch (dimension) {
                case Dimension.Continuous c -> {
                    double value = Double.parseDouble(text) * (up ? 1.2 : 0.8);
                    yield c.text(c.unit(Double.toString(Math.max(c.min(), Math.min(c.max(), value)))));
                }
                case Dimension.Ordinal o -> neighbour(o.values(), text, up);
                case Dimension.Categorical c -> neighbour(c.values(), text, up);
            });
        }
        return explored;
    }

    private static String neighbour(List<String> values, String text, boolean up) {
        int i = values.indexOf(text);
        if (i < 0) return text;
        return values.get(Math.max(0, Math.min(values.size() - 1, i + (up ? 1 : -1))));
    }

    private Map<String, String> labels(int generation, int member, String parent) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(GENERATION, Integer.toString(generation));
        labels.put(MEMBER, Integer.toString(member));
        if (parent != null) labels.put(PARENT, parent);
        return labels;
    }
}
