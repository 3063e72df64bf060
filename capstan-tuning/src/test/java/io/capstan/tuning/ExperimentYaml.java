package io.capstan.tuning;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds Experiment YAML with valid defaults, so that each test states only what matters:
 * {@code anExperiment("e").withCommand("echo loss=${trialParameters.x}").build()}.
 */
final class ExperimentYaml {
    private final String name;
    private String objective = "type: minimize\n    objectiveMetricName: loss";
    private String algorithm = "algorithmName: random";
    private String parameters = "  - {name: x, parameterType: double, feasibleSpace: {min: \"0.1\", max: \"0.9\"}}";
    private String trialParameters = "- {name: x, reference: x}";
    private final List<String> budget = new ArrayList<>(List.of("parallelTrialCount: 2", "maxTrialCount: 4", "maxFailedTrialCount: 3"));
    private String command = "echo loss=${trialParameters.x}";
    private String collector = "";
    private String extra = "";
    private String jobSpecExtra = "";
    private String containerExtra = "";
    private String podExtra = "";

    private ExperimentYaml(String name) {
        this.name = name;
    }

    static ExperimentYaml anExperiment(String name) {
        return new ExperimentYaml(name);
    }

    ExperimentYaml withObjective(String yaml) {
        objective = yaml;
        return this;
    }

    ExperimentYaml withAlgorithm(String yaml) {
        algorithm = yaml;
        return this;
    }

    /** One {@code - {...}} flow mapping per line. */
    ExperimentYaml withParameters(String yaml) {
        parameters = String.join("\n", yaml.lines().map(l -> "  " + l.strip()).toList());
        return this;
    }

    ExperimentYaml withTrialParameters(String yaml) {
        trialParameters = yaml;
        return this;
    }

    ExperimentYaml withBudget(int parallel, int max, int maxFailed) {
        budget.clear();
        budget.addAll(List.of("parallelTrialCount: " + parallel, "maxTrialCount: " + max, "maxFailedTrialCount: " + maxFailed));
        return this;
    }

    /** A shell command line, run with {@code sh -c}. */
    ExperimentYaml withCommand(String shell) {
        command = shell;
        return this;
    }

    ExperimentYaml withCollector(String yaml) {
        collector = yaml;
        return this;
    }

    /** More top-level spec fields, such as {@code earlyStopping: ...}, indented by two spaces. */
    ExperimentYaml withSpec(String yaml) {
        extra = yaml;
        return this;
    }

    ExperimentYaml withJobSpec(String yaml) {
        jobSpecExtra = yaml;
        return this;
    }

    /** Extra fields of the trial's container, as YAML lines (env, volumeMounts). */
    ExperimentYaml withContainer(String yaml) {
        containerExtra = yaml.indent(16).stripTrailing();
        return this;
    }

    /** Extra fields of the trial's pod spec, as YAML lines (volumes). */
    ExperimentYaml withPod(String yaml) {
        podExtra = yaml.indent(12).stripTrailing();
        return this;
    }

    String build() {
        var sb = new StringBuilder();
        sb.append("apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata:\n  name: ").append(name).append('\n');
        sb.append("spec:\n");
        sb.append("  objective:\n    ").append(objective).append('\n');
        sb.append("  algorithm:\n    ").append(algorithm).append('\n');
        budget.forEach(b -> sb.append("  ").append(b).append('\n'));
        sb.append("  parameters:\n").append(parameters).append('\n');
        if (!collector.isEmpty()) sb.append("  metricsCollectorSpec:\n    ").append(collector).append('\n');
        if (!extra.isEmpty()) sb.append("  ").append(extra).append('\n');
        sb.append("""
                  trialTemplate:
                    primaryContainerName: main
                    trialParameters:
                      %s
                    trialSpec:
                      apiVersion: batch/v1
                      kind: Job
                      spec:
                        %s
                        template:
                          spec:
                            containers:
                              - name: main
                                image: busybox
                                command: [sh, -c, %s]
                %s
                            restartPolicy: Never
                %s
                """.formatted(trialParameters, jobSpecExtra.isEmpty() ? "backoffLimit: 0" : jobSpecExtra, quote(command), containerExtra, podExtra));
        return sb.toString();
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "''") + "'";
    }
}
