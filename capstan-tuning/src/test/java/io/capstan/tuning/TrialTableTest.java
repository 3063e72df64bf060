package io.capstan.tuning;

import static io.capstan.tuning.ExperimentYaml.anExperiment;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.core.ResourceStatus;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrialTableTest {
    private final ResourceParser parser = new ResourceParser(ResourceKinds.of(Experiments.kinds()));
    private final Resource experiment = parser.parse("e.yaml", anExperiment("iris")
            .withObjective("type: maximize\n    objectiveMetricName: accuracy\n    additionalMetricNames: [loss]")
            .withParameters("""
                    - {name: lr, parameterType: double, feasibleSpace: {min: "0.001", max: "1"}}
                    - {name: solver, parameterType: categorical, feasibleSpace: {list: [lbfgs, saga]}}""")
            .withTrialParameters("- {name: lr, reference: lr}").withCommand("echo ${trialParameters.lr}").build()).getFirst();

    private static Resource trial(String name, String phase, String lr, double... accuracies) {
        var assignment = new LinkedHashMap<String, String>();
        assignment.put("lr", lr);
        assignment.put("solver", "saga");
        var spec = new TrialSpec(assignment, io.capstan.core.Json.json().createObjectNode(), "main", Map.of()).toTree();
        var observations = new java.util.ArrayList<Observation>();
        for (int i = 0; i < accuracies.length; i++) observations.add(new Observation("accuracy", accuracies[i], i + 1, Instant.EPOCH));
        var status = ResourceStatus.EMPTY.withPhase(phase).withField("observations", TrialObservations.toJson(observations))
                .withField("message", TextNode.valueOf("exited with code 1"));
        return new Resource(Experiments.API_VERSION, Experiments.TRIAL, ObjectMeta.named("default", name), spec, status);
    }

    private final List<Resource> trials = List.of(
            trial("iris-1", "Succeeded", "0.01", 0.9, 0.93),
            trial("iris-2", "Failed", "0.5"),
            trial("iris-3", "Succeeded", "0.1", 0.97, 0.96),
            trial("iris-4", "Running", "0.2", 0.5));

    @Test
    void rendersOneAlignedRowPerTrialInCreationOrder() {
        assertThat(TrialTable.render(experiment, trials, TrialTable.Order.CREATED)).isEqualTo("""
                TRIAL   STATUS     accuracy  loss  lr    solver
                iris-1  Succeeded  0.93      -     0.01  saga
                iris-2  Failed     -         -     0.5   saga
                iris-3  Succeeded  0.97      -     0.1   saga
                iris-4  Running    0.5       -     0.2   saga
                """);
    }

    @Test
    void sortsByTheObjectiveBestFirstWithTrialsWithoutAValueLast() {
        var rows = TrialTable.render(experiment, trials, TrialTable.Order.OBJECTIVE).lines().skip(1).map(l -> l.split("\\s+")[0]).toList();
        assertThat(rows).containsExactly("iris-3", "iris-1", "iris-4", "iris-2");
    }

    @Test
    void describesAFinishedTrialAndTheBestSoFarInOneLine() {
        assertThat(TrialTable.trialLine(experiment, trials.get(2))).isEqualTo("iris-3 Succeeded accuracy=0.97 (lr=0.1, solver=saga)");
        assertThat(TrialTable.trialLine(experiment, trials.get(1))).isEqualTo("iris-2 Failed (lr=0.5, solver=saga): exited with code 1");
        assertThat(TrialTable.bestSoFar(experiment)).isEqualTo("best: none yet");
        var objective = new ExperimentSpecReader(SearchCatalog.UNCHECKED).read(experiment.spec()).objective();
        var status = TrialCounts.of(trials, objective).writeTo(experiment.status(), objective);
        assertThat(TrialTable.bestSoFar(experiment.withStatus(status))).isEqualTo("best: iris-3 accuracy=0.97 (lr=0.1, solver=saga)");
    }

    @Test
    void formatsNumbersCompactly() {
        assertThat(TrialTable.number(0.123456789)).isEqualTo("0.123457");
        assertThat(TrialTable.number(2)).isEqualTo("2");
        assertThat(TrialTable.number(1.5e-7)).isEqualTo("1.5E-7");
        assertThat(TrialTable.number(-0.25)).isEqualTo("-0.25");
    }
}
