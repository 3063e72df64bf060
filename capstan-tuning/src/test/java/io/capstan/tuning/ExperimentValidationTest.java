package io.capstan.tuning;

import static io.capstan.tuning.ExperimentYaml.anExperiment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.core.FieldError;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.search.Distribution;
import io.capstan.search.ParameterType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Admission of Experiments through the kind's validator, as {@code capstan apply} does it. */
class ExperimentValidationTest {
    private final ResourceParser parser = new ResourceParser(ResourceKinds.of(Experiments.kinds()));

    private List<FieldError> errorsOf(String yaml) {
        var e = org.assertj.core.api.Assertions.catchThrowableOfType(InvalidSpecException.class, () -> parser.parse("e.yaml", yaml));
        assertThat(e).as("expected the experiment to be refused:%n%s", yaml).isNotNull();
        return e.errors();
    }

    private void assertRefused(String yaml, String path, String messagePart) {
        assertThat(errorsOf(yaml)).anySatisfy(err -> {
            assertThat(err.path()).isEqualTo(path);
            assertThat(err.message()).contains(messagePart);
        });
    }

    @Test
    void readsEveryPartOfAValidExperiment() {
        var yaml = anExperiment("full")
                .withObjective("""
                        type: maximize
                            goal: 0.99
                            objectiveMetricName: accuracy
                            additionalMetricNames: [loss]
                            metricStrategies:
                              - {name: loss, value: latest}""")
                .withParameters("""
                          - {name: lr, parameterType: double, feasibleSpace: {min: "0.001", max: "0.1", distribution: logUniform}}
                          - {name: layers, parameterType: int, feasibleSpace: {min: "1", max: "5", step: "2"}}
                          - {name: batch, parameterType: discrete, feasibleSpace: {list: ["16", "32"]}}
                          - {name: opt, parameterType: categorical, feasibleSpace: {list: [sgd, adam]}}""")
                .withTrialParameters("- {name: lr, reference: lr}")
                .withCommand("echo accuracy=${trialParameters.lr}")
                .withSpec("resumePolicy: LongRunning")
                .withJobSpec("activeDeadlineSeconds: 30")
                .build();
        var resource = parser.parse("e.yaml", yaml).getFirst();
        var spec = new ExperimentSpecReader(SearchCatalog.KATIB).read(resource.spec());
        assertThat(spec.objective().type()).isEqualTo(Objective.ObjectiveType.MAXIMIZE);
        assertThat(spec.objective().goal()).hasValue(0.99);
        assertThat(spec.objective().strategyOf("accuracy")).isEqualTo(Objective.MetricStrategy.MAX);
        assertThat(spec.objective().strategyOf("loss")).isEqualTo(Objective.MetricStrategy.LATEST);
        assertThat(spec.space().parameters()).extracting(p -> p.type())
                .containsExactly(ParameterType.DOUBLE, ParameterType.INT, ParameterType.DISCRETE, ParameterType.CATEGORICAL);
        assertThat(spec.space().parameters().getFirst().distribution()).isEqualTo(Distribution.LOG_UNIFORM);
        assertThat(spec.space().parameters().get(1).step()).hasValue(2);
        assertThat(spec.space().parameters().get(3).values()).containsExactly("sgd", "adam");
        assertThat(spec.resumePolicy()).isEqualTo(ExperimentSpec.ResumePolicy.LONG_RUNNING);
        assertThat(spec.trialTimeout()).hasValue(java.time.Duration.ofSeconds(30));
        assertThat(spec.parallelTrialCount()).isEqualTo(2);
        assertThat(spec.maxTrialCount()).hasValue(4);
        assertThat(spec.collector().kind()).isEqualTo(MetricsCollectorSpec.CollectorKind.STDOUT);
    }

    @Test
    void refusesABadImagePullPolicyOrExecutionAnnotationNamingTheField() {
        var yaml = anExperiment("e").build();
        assertRefused(yaml.replace("image: busybox", "image: busybox\n" + " ".repeat(16) + "imagePullPolicy: Sometimes"),
                "spec.trialTemplate.trialSpec.spec.template.spec.containers[0].imagePullPolicy", "must be Always, IfNotPresent or Never, got 'Sometimes'");
        assertRefused(yaml.replace("kind: Job\n", "kind: Job\n      metadata: {annotations: {capstan.io/execution: docker}}\n"),
                "spec.trialTemplate.trialSpec.metadata.annotations[capstan.io/execution]", "must be auto, container or host, got 'docker'");
    }

    @Test
    void refusesMinAboveMax() {
        assertRefused(anExperiment("e").withParameters("  - {name: x, parameterType: double, feasibleSpace: {min: '5', max: '1'}}").build(),
                "spec.parameters[0].feasibleSpace.min", "greater than max");
    }

    @Test
    void refusesAStepLargerThanTheRange() {
        assertRefused(anExperiment("e").withParameters("  - {name: x, parameterType: int, feasibleSpace: {min: '1', max: '3', step: '5'}}").build(),
                "spec.parameters[0].feasibleSpace.step", "larger than the range");
    }

    @Test
    void refusesAnEmptyList() {
        assertRefused(anExperiment("e").withParameters("  - {name: x, parameterType: categorical, feasibleSpace: {list: []}}").build(),
                "spec.parameters[0].feasibleSpace.list", "empty");
    }

    @Test
    void refusesBadNumbersTypesAndDistributions() {
        var errors = errorsOf(anExperiment("e").withParameters("""
                  - {name: x, parameterType: double, feasibleSpace: {min: 'abc', max: 'Infinity'}}
                  - {name: y, parameterType: float, feasibleSpace: {min: '1', max: '2'}}
                  - {name: z, parameterType: double, feasibleSpace: {min: '0', max: '2', distribution: logUniform}}
                  - {name: w, parameterType: int, feasibleSpace: {min: '1.5', max: '2'}}
                  - {name: v, parameterType: double, feasibleSpace: {min: '1', max: '2', distribution: zipf}}""")
                .withTrialParameters("[]").withCommand("echo").build());
        assertThat(errors).as(errors.toString()).extracting(FieldError::path).contains(
                "spec.parameters[0].feasibleSpace.min", "spec.parameters[0].feasibleSpace.max", "spec.parameters[1].parameterType",
                "spec.parameters[2].feasibleSpace.min", "spec.parameters[3].feasibleSpace.min", "spec.parameters[4].feasibleSpace.distribution");
    }

    @Test
    void refusesUnknownAlgorithmsAndSettingsAtAdmission() {
        assertRefused(anExperiment("e").withAlgorithm("algorithmName: simulated-annealing").build(), "spec.algorithm.algorithmName", "unknown algorithm");
        assertThat(errorsOf(anExperiment("e").withAlgorithm("algorithmName: random\n    algorithmSettings: [{name: temperature, value: '3'}]").build()))
                .anySatisfy(err -> assertThat(err.path()).startsWith("spec.algorithm.algorithmSettings"));
        assertRefused(anExperiment("e").withSpec("earlyStopping: {algorithmName: medianstop, algorithmSettings: [{name: start_step, value: '-4'}]}").build(),
                "spec.earlyStopping.algorithmSettings.start_step", "");
    }

    @Test
    void refusesAMetricThatIsBothObjectiveAndAdditional() {
        assertRefused(anExperiment("e").withObjective("type: minimize\n    objectiveMetricName: loss\n    additionalMetricNames: [loss]").build(),
                "spec.objective.additionalMetricNames[0]", "already the objectiveMetricName");
    }

    @Test
    void refusesMoreParallelTrialsThanTheBudget() {
        assertRefused(anExperiment("e").withBudget(5, 2, 1).build(), "spec.parallelTrialCount", "more than maxTrialCount 2");
    }

    @Test
    void refusesObjectiveMistakes() {
        var errors = errorsOf(anExperiment("e").withObjective("""
                type: lowest
                    goal: high
                    metricStrategies: [{name: acc, value: median}]""").build());
        assertThat(errors).extracting(FieldError::path).contains("spec.objective.type", "spec.objective.goal",
                "spec.objective.objectiveMetricName", "spec.objective.metricStrategies[0].value");
    }

    @Test
    void refusesUndeclaredTrialParametersAndMissingContainers() {
        assertRefused(anExperiment("e").withCommand("echo ${trialParameters.nope}").build(), "spec.trialTemplate.trialSpec",
                "${trialParameters.nope}");
        assertRefused(anExperiment("e").withTrialParameters("- {name: x, reference: notAParameter}").build(),
                "spec.trialTemplate.trialParameters[0].reference", "neither a parameter");
        var noContainer = anExperiment("e").build().replace("primaryContainerName: main", "primaryContainerName: trainer");
        assertRefused(noContainer, "spec.trialTemplate.primaryContainerName", "'trainer' is not the name of a container");
    }

    @Test
    void refusesBadCollectorsAndFilters() {
        assertRefused(anExperiment("e").withCollector("collector: {kind: Telepathy}").build(), "spec.metricsCollectorSpec.collector.kind", "expected StdOut");
        assertRefused(anExperiment("e").withCollector("collector: {kind: File}").build(), "spec.metricsCollectorSpec.source.fileSystemPath.path", "required");
        assertRefused(anExperiment("e").withCollector("source: {filter: {metricsFormat: ['([a-z+']}}").build(),
                "spec.metricsCollectorSpec.source.filter.metricsFormat[0]", "not a valid regular expression");
        assertRefused(anExperiment("e").withCollector("source: {filter: {metricsFormat: ['loss=(\\d+)']}}").build(),
                "spec.metricsCollectorSpec.source.filter.metricsFormat[0]", "two groups");
        // Java-only syntax that Go's regexp (RE2), and so Katib, refuses: a backreference, lookahead, a possessive quantifier, \Z
        for (var javaOnly : List.of("(\\w+)=(\\d)\\1", "(?=loss)(\\w+)=(\\d+)", "(\\w+)=(\\d++)", "(\\w+)=(\\d+)\\Z")) {
            assertRefused(anExperiment("e").withCollector("source: {filter: {metricsFormat: ['" + javaOnly + "']}}").build(),
                    "spec.metricsCollectorSpec.source.filter.metricsFormat[0]", "RE2");
        }
        assertThat(parser.parse("e.yaml", anExperiment("e").withCollector(
                "source: {filter: {metricsFormat: ['(?P<name>[[:alpha:]]+)=(?P<value>[[:digit:].]+)']}}").build())).hasSize(1);
    }

    @Test
    void refusesOversizedInputWithoutTryingIt() {
        var many = new StringBuilder();
        for (int i = 0; i < 101; i++) many.append("  - {name: p").append(i).append(", parameterType: double, feasibleSpace: {min: '0', max: '1'}}\n");
        assertRefused(anExperiment("e").withParameters(many.toString().stripTrailing()).build(), "spec.parameters", "the limit is 100");
        var longList = new StringBuilder("  - {name: x, parameterType: categorical, feasibleSpace: {list: [");
        for (int i = 0; i < 10_001; i++) longList.append(i == 0 ? "" : ",").append('v').append(i);
        longList.append("]}}");
        assertRefused(anExperiment("e").withParameters(longList.toString()).build(), "spec.parameters[0].feasibleSpace.list", "the limit is 10000");
        assertRefused(anExperiment("e").withBudget(1, 2_000_000_000, 1).build(), "spec.maxTrialCount", "must be from 1 to 1000000");
    }

    @Test
    void refusesHostileValuesWithPrintableMessages() {
        var errors = errorsOf(anExperiment("e").withParameters("  - {name: \"x\\u0000\\u202e\", parameterType: double, feasibleSpace: {min: '0', max: '1'}}")
                .withTrialParameters("[]").withCommand("echo").build());
        assertThat(errors).anySatisfy(err -> {
            assertThat(err.path()).isEqualTo("spec.parameters[0].name");
            assertThat(err.message()).doesNotContain("\u0000").doesNotContain("\u202e");
        });
        assertThat(errorsOf(anExperiment("e").withSpec("resumePolicy: {a: 1}").build())).extracting(FieldError::path).contains("spec.resumePolicy");
    }

    @Test
    void refusesControlCharactersInNamesLongerThanTheEchoedPart() {
        var name = "m".repeat(100) + "\\u001b[2J";
        assertRefused(anExperiment("e").withObjective("type: minimize\n    objectiveMetricName: \"" + name + "\"").build(),
                "spec.objective.objectiveMetricName", "contains a control character");
    }

    @Test
    void acceptsRefusedCollectorsAtAdmissionSoThatTheControllerCanSayWhy() {
        var yaml = anExperiment("tfe").withCollector("collector: {kind: TensorFlowEvent}\n    source: {fileSystemPath: {path: /logs, kind: Directory}}").build();
        var spec = new ExperimentSpecReader(SearchCatalog.KATIB).read(parser.parse("e.yaml", yaml).getFirst().spec());
        assertThat(spec.collector().kind().refusal()).hasValueSatisfying(r -> assertThat(r).contains("TensorFlow summary files"));
    }

    @Test
    void refusesATrialSpecOfTheWrongShape() {
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> parser.parse("e.yaml",
                anExperiment("e").build().replace("trialSpec:", "trialSpec: 42\n    unused:")));
        assertRefused(anExperiment("e").build().replace("    trialSpec:", "    configMap: {configMapName: x, templatePath: t}\n    trialSpec:"),
                "spec.trialTemplate", "not both");
    }
}
