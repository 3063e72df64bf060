package io.capstan.search;

import io.capstan.search.internal.CmaEs;
import io.capstan.search.internal.Hyperband;
import io.capstan.search.internal.PopulationBasedTraining;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import static org.assertj.core.api.Assertions.assertThat;

/** Hyperband, PBT and CMA-ES: the state they keep in labels. */
class ResourceAlgorithmsTest {
    private static final SearchSpace SPACE = new SearchSpace(List.of(Parameter.ofDouble("lr", 0.001, 0.1), Parameter.ofInt("epochs", 1, 9)));

    @Test
    void hyperbandRunsSuccessiveHalvingInItsFirstBracket() {
        SearchAlgorithm hyperband = SearchAlgorithms.create("hyperband", Map.of("resource_name", "epochs", "eta", "3", "r_l", "9"), SPACE);

        List<Suggestion> rung0 = hyperband.suggest(SPACE, List.of(), 100);
        assertThat(rung0).hasSize(9).allSatisfy(s -> {
            assertThat(s.assignment()).containsEntry("epochs", "1");
            assertThat(s.labels()).containsEntry(Hyperband.BRACKET, "2").containsEntry(Hyperband.RUNG, "0");
        });

        List<Trial> history = new ArrayList<>();
        for (int i = 0; i < rung0.size(); i++) history.add(Runs.running("t" + i, rung0.get(i).assignment()));
        List<Trial> running = history.stream().map(t -> labelled(t, rung0.get(Integer.parseInt(t.name().substring(1))).labels())).toList();
        assertThat(hyperband.suggest(SPACE, running, 100)).as("waits for the rung").isEmpty();

        List<Trial> finished = new ArrayList<>();
        for (int i = 0; i < rung0.size(); i++) finished.add(finished("t" + i, rung0.get(i), Double.parseDouble(rung0.get(i).assignment().get("lr"))));
        List<Suggestion> rung1 = hyperband.suggest(SPACE, finished, 100);

        List<String> best3 = finished.stream().sorted(Comparator.comparingDouble(t -> t.loss().orElseThrow())).limit(3).map(Trial::name).toList();
        assertThat(rung1).hasSize(3).allSatisfy(s -> {
            assertThat(s.assignment()).containsEntry("epochs", "3");
            assertThat(s.labels()).containsEntry(Hyperband.RUNG, "1");
        });
        assertThat(rung1).extracting(s -> s.labels().get(Hyperband.PARENT)).containsExactlyElementsOf(best3);
    }

    @Test
    void pbtReplacesLaggardsWithExploredCopiesOfLeaders() {
        SearchAlgorithm pbt = SearchAlgorithms.create("pbt", Map.of("n_population", "5", "truncation_threshold", "0.2",
                "suggestion_trial_dir", "/ckpt"), SPACE);

        List<Suggestion> generation0 = pbt.suggest(SPACE, List.of(), 10);
        assertThat(generation0).hasSize(5).allSatisfy(s -> assertThat(s.labels())
                .containsEntry(PopulationBasedTraining.GENERATION, "0").doesNotContainKey(PopulationBasedTraining.PARENT));

        List<Trial> history = new ArrayList<>();
        for (int i = 0; i < 5; i++) history.add(finished("m" + i, generation0.get(i), i));
        List<Suggestion> generation1 = pbt.suggest(SPACE, history, 10);

        assertThat(generation1).hasSize(5).allSatisfy(s -> assertThat(s.labels())
                .containsEntry(PopulationBasedTraining.GENERATION, "1").containsKey(PopulationBasedTraining.PARENT));
        Suggestion laggard = generation1.stream().filter(s -> s.labels().get(PopulationBasedTraining.MEMBER).equals("4")).findFirst().orElseThrow();
        assertThat(laggard.labels()).containsEntry(PopulationBasedTraining.PARENT, "m0");
        assertThat(laggard.assignment()).isNotEqualTo(generation0.get(0).assignment());
        Suggestion leader = generation1.stream().filter(s -> s.labels().get(PopulationBasedTraining.MEMBER).equals("0")).findFirst().orElseThrow();
        assertThat(leader.labels()).containsEntry(PopulationBasedTraining.PARENT, "m0");
        assertThat(leader.assignment()).isEqualTo(generation0.get(0).assignment());
    }

    @Test
    void cmaesMovesToTheNextGenerationOnceAFullPopulationHasFinished() {
        SearchAlgorithm cmaes = SearchAlgorithms.create("cmaes", Map.of("random_state", "3"), SPACE);
        List<Suggestion> first = cmaes.suggest(SPACE, List.of(), 6);
        assertThat(first).allSatisfy(s -> assertThat(s.labels()).containsEntry(CmaEs.GENERATION, "0"));
        assertThat(first).extracting(s -> s.labels().get(CmaEs.INDEX)).containsExactly("0", "1", "2", "3", "4", "5");

        List<Trial> history = new ArrayList<>();
        for (int i = 0; i < 6; i++) history.add(finished("c" + i, first.get(i), i));

        assertThat(cmaes.suggest(SPACE, history, 1)).singleElement()
                .satisfies(s -> assertThat(s.labels()).containsEntry(CmaEs.GENERATION, "1").containsEntry(CmaEs.INDEX, "0"));
    }

    private static Trial finished(String name, Suggestion s, double loss) {
        return new Trial(name, s.assignment(), TrialState.SUCCEEDED, OptionalDouble.of(loss), List.of(), s.labels());
    }

    private static Trial labelled(Trial t, Map<String, String> labels) {
        return new Trial(t.name(), t.assignment(), t.state(), t.loss(), t.intermediates(), labels);
    }
}
