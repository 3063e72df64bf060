package io.capstan.search.internal;

import io.capstan.search.Distribution;
import io.capstan.search.Parameter;
import io.capstan.search.ParameterType;
import io.capstan.search.SearchSpace;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class UnitSpaceTest {
    private final UnitSpace space = UnitSpace.of(new SearchSpace(List.of(
            new Parameter("lr", ParameterType.DOUBLE, 1e-6, 1, OptionalDouble.empty(), List.of(), Distribution.LOG_UNIFORM),
            Parameter.ofInt("layers", 1, 4),
            Parameter.ofCategorical("act", List.of("relu", "tanh")))));

    @Test
    void valuesAreWrittenAsKatibWritesThem() {
        Map<String, String> assignment = space.assignment(new double[] {1.0 / 6, 0.99, 0.2});

        assertThat(assignment).containsEntry("lr", "0.00001").containsEntry("layers", "4").containsEntry("act", "relu");
    }

    @Test
    void logScaleSpreadsDecadesEvenly() {
        assertThat(Double.parseDouble(space.assignment(new double[] {0.5, 0, 0}).get("lr"))).isCloseTo(1e-3, within(1e-12));
    }

    @Test
    void pointsRoundTripThroughText() {
        double[] u = space.snap(new double[] {0.37, 0.6, 0.8});

        assertThat(space.point(space.assignment(u)).orElseThrow()).containsExactly(u, within(1e-12));
        assertThat(space.point(Map.of("lr", "0.1", "layers", "9", "act", "relu"))).as("9 layers is outside the space").isEmpty();
    }
}
