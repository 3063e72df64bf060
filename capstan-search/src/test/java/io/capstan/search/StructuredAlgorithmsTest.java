package io.capstan.search;

import io.capstan.search.internal.SobolSearch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static io.capstan.search.SearchAlgorithmsTest.stepped;
import static org.assertj.core.api.Assertions.assertThat;

/** Grid and Sobol: enumeration and coverage. */
class StructuredAlgorithmsTest {

    @Test
    void gridVisitsEveryCombinationOnceAndThenStops() {
        SearchSpace space = new SearchSpace(List.of(stepped("lr", 0.1, 0.3, 0.1), Parameter.ofInt("layers", 2, 3),
                Parameter.ofCategorical("act", List.of("relu", "tanh"))));
        SearchAlgorithm grid = SearchAlgorithms.create("grid", Map.of(), space);

        List<Trial> history = Runs.run(grid, space, 100, a -> 1.0);

        assertThat(history).hasSize(12);
        assertThat(history.stream().map(Trial::assignment).distinct()).hasSize(12);
        assertThat(history).extracting(t -> t.assignment().get("lr")).containsOnly("0.1", "0.2", "0.3");
        assertThat(grid.suggest(space, history, 5)).isEmpty();
    }

    @Test
    void gridHandsOutDistinctPointsToParallelTrials() {
        SearchSpace space = new SearchSpace(List.of(Parameter.ofInt("layers", 1, 5)));

        List<Suggestion> first = SearchAlgorithms.create("grid", Map.of(), space).suggest(space, List.of(), 3);
        List<Trial> running = first.stream().map(s -> Runs.running("r" + s.assignment().get("layers"), s.assignment())).toList();
        List<Suggestion> second = SearchAlgorithms.create("grid", Map.of(), space).suggest(space, running, 3);

        assertThat(first.size() + second.size()).isEqualTo(5);
        var all = new HashSet<Map<String, String>>();
        first.forEach(s -> all.add(s.assignment()));
        second.forEach(s -> all.add(s.assignment()));
        assertThat(all).hasSize(5);
    }

    @Test
    void sobolCoversTheSquareMoreEvenlyThanRandomDraws() {
        List<double[]> sobol = SobolSearch.points(2, 1, 256);
        SplittableRandom random = new SplittableRandom(3);
        List<double[]> uniform = new ArrayList<>();
        for (int i = 0; i < 256; i++) uniform.add(new double[] {random.nextDouble(), random.nextDouble()});

        assertThat(worstCellDeviation(sobol)).isLessThanOrEqualTo(1);
        assertThat(worstCellDeviation(sobol)).isLessThan(worstCellDeviation(uniform));
    }

    @Test
    void sobolContinuesWhereTheHistoryLeftOff() {
        SearchSpace space = new SearchSpace(List.of(Parameter.ofDouble("x", 0, 1), Parameter.ofDouble("y", 0, 1)));
        SearchAlgorithm sobol = SearchAlgorithms.create("sobol", Map.of(), space);

        List<Suggestion> together = sobol.suggest(space, List.of(), 4);
        List<Trial> firstTwo = Runs.run(sobol, space, 2, a -> 0.0);
        List<Suggestion> rest = sobol.suggest(space, firstTwo, 2);

        assertThat(firstTwo).extracting(Trial::assignment).containsExactly(together.get(0).assignment(), together.get(1).assignment());
        assertThat(rest).extracting(Suggestion::assignment).containsExactly(together.get(2).assignment(), together.get(3).assignment());
    }

    /** Points fall into an 8 x 8 grid of cells; how far the fullest or emptiest cell is from the average of 4. */
    private static int worstCellDeviation(List<double[]> points) {
        int[] counts = new int[64];
        for (double[] p : points) counts[(int) (p[0] * 8) * 8 + (int) (p[1] * 8)]++;
        int worst = 0;
        for (int c : counts) worst = Math.max(worst, Math.abs(c - points.size() / 64));
        return worst;
    }
}
