package io.capstan.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import com.fasterxml.jackson.databind.node.IntNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResourceParserTest {
    private static final SpecValidator NEEDS_COMMAND = (spec, problems) -> {
        var cmd = spec.get("command");
        if (cmd == null || !cmd.isArray()) problems.add("spec.command", "required: a list of strings");
    };
    private final ResourceParser parser = new ResourceParser(ResourceKinds.of(List.of(
            ResourceKind.of("capstan.io", "v1", "Job", "jobs", NEEDS_COMMAND),
            ResourceKind.of("kubeflow.org", "v1beta1", "Experiment", "experiments", (spec, p) -> {
                var params = spec.path("parameters");
                for (int i = 0; i < params.size(); i++) {
                    var min = params.get(i).path("feasibleSpace").path("min");
                    if (!min.isNumber()) p.add("spec.parameters[" + i + "].feasibleSpace.min", "expected a number");
                }
            }))));

    @Test
    void parsesSeveralDocumentsAndKeepsUnknownSpecFields() {
        var yaml = """
                apiVersion: capstan.io/v1
                kind: Job
                metadata: {name: a, labels: {team: ml}}
                spec:
                  command: [echo, hi]
                  somethingNew: {deep: [1, 2]}
                ---
                apiVersion: capstan.io/v1
                kind: Job
                metadata: {name: b, namespace: team-a}
                spec: {command: [true]}
                """;
        var resources = parser.parse("jobs.yaml", yaml);
        assertThat(resources).hasSize(2);
        assertThat(resources.get(0).metadata().namespace()).isEqualTo("default");
        assertThat(resources.get(0).metadata().labels()).containsEntry("team", "ml");
        assertThat(resources.get(0).spec().path("somethingNew").path("deep").get(1).asInt()).isEqualTo(2);
        assertThat(resources.get(1).key()).isEqualTo(new ResourceKey("Job", "team-a", "b"));
    }

    @Test
    void namesSourceLineAndPathOfABadField() {
        var yaml = """
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata:
                  name: e
                spec:
                  parameters:
                    - name: lr
                      feasibleSpace: {min: "0.1"}
                    - name: x
                      feasibleSpace:
                        min: 1
                    - name: y
                      feasibleSpace:
                        min: abc
                """;
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("pipeline.yaml", yaml))
                .satisfies(e -> assertThat(e.errors()).extracting(FieldError::toString).containsExactly(
                        "pipeline.yaml:8: spec.parameters[0].feasibleSpace.min: expected a number",
                        "pipeline.yaml:14: spec.parameters[2].feasibleSpace.min: expected a number"));
    }

    @Test
    void reportsEveryEnvelopeProblemAtOnce() {
        var yaml = """
                apiVersion: capstan.io/v9
                kind: Job
                metadata:
                  name: Not_A_DNS_Name
                  namespace: "a b"
                  labels: {"bad key!": v}
                spec: []
                """;
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("x.yaml", yaml))
                .satisfies(e -> assertThat(e.errors()).extracting(FieldError::path)
                        .contains("apiVersion", "metadata.name", "metadata.namespace", "metadata.labels.bad key!", "spec"));
    }

    @Test
    void refusesUnknownKindsNamingTheSupportedOnes() {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("x", "apiVersion: v1\nkind: Lizard\nmetadata: {name: p}\n"))
                .withMessageContaining("x:2: kind: unknown kind 'Lizard'; supported kinds: Experiment, Job");
    }

    @Test
    void refusesKubernetesKindsSamplesShipWithOneSentenceOnWhatCapstanDoesInstead() {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("x", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"))
                .withMessageContaining("x:2: kind: kind Pod is not applied locally: Capstan runs containers as a Job (batch/v1 or capstan.io/v1)");
        for (var kind : List.of("Service", "Deployment", "ClusterRole", "StorageClass", "Kustomization")) {
            assertThatExceptionOfType(InvalidSpecException.class)
                    .isThrownBy(() -> parser.parse("x", "apiVersion: v1\nkind: " + kind + "\nmetadata: {name: p}\n"))
                    .satisfies(e -> assertThat(e.errors()).singleElement().satisfies(err -> {
                        assertThat(err.path()).isEqualTo("kind");
                        assertThat(err.message()).startsWith("kind " + kind + " is not applied locally: ").doesNotContain("supported kinds");
                    }));
        }
    }

    @Test
    void refusesMalformedAndHostileInputWithALine() {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("x", "apiVersion: v1\nkind: [unclosed\n"))
                .withMessageContaining("malformed YAML");
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("x", "{\"apiVersion\": 1,"))
                .withMessageContaining("malformed JSON");
        var bomb = new StringBuilder("a: &a [x,x,x,x,x,x,x,x,x]\n");
        for (char c = 'b'; c <= 'k'; c++) {
            var prev = (char) (c - 1);
            bomb.append(c).append(": &").append(c).append(" [*").append(prev).append(",*").append(prev).append(",*").append(prev).append("]\n");
        }
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> parser.parse("bomb", bomb.toString()));
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("deep", "[".repeat(500) + "]".repeat(500)))
                .withMessageContaining("too deeply nested");
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("dup", "apiVersion: v1\napiVersion: v2\n"))
                .withMessageContaining("dup:2: malformed YAML: Duplicate field 'apiVersion'");
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("big", "a: " + "x".repeat(Json.MAX_DOCUMENT_BYTES + 1)))
                .withMessageContaining("the limit is");
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("empty", "   \n"))
                .withMessageContaining("no resource found");
    }

    @Test
    void resolvesYamlAnchorsAliasesAndMergeKeys() {
        var docs = DocumentReader.read("a.yaml", """
                base: &base {image: alpine, command: &cmd [sh, -c, "echo hi"]}
                master: {<<: *base, image: busybox}
                worker:
                  <<: [*base]
                  args: *cmd
                """);
        var tree = docs.getFirst().root();
        assertThat(tree.at("/master/image").asText()).isEqualTo("busybox");
        assertThat(tree.at("/master/command/2").asText()).isEqualTo("echo hi");
        assertThat(tree.at("/worker/image").asText()).isEqualTo("alpine");
        assertThat(tree.at("/worker/args").size()).isEqualTo(3);
        assertThat(tree.has("<<")).isFalse();

        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> DocumentReader.read("b.yaml", "a: 1\nb: *nowhere\n"))
                .withMessageContaining("b.yaml:2: b: alias '*nowhere' refers to no anchor");
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> DocumentReader.read("c.yaml", "a: &a [1]\nb: {<<: *a}\n"))
                .withMessageContaining("the merge key '<<' takes a mapping");
    }

    @Test
    void statusExtraFieldsRoundTripFlat() throws Exception {
        var status = ResourceStatus.EMPTY.withPhase("Running").withField("exitCode", IntNode.valueOf(3))
                .withCondition("Ready", true, "Started", "", java.time.Instant.EPOCH);
        var json = Json.json().writeValueAsString(status);
        assertThat(json).contains("\"exitCode\":3").contains("\"phase\":\"Running\"");
        var back = Json.json().readValue(json, ResourceStatus.class);
        assertThat(back).isEqualTo(status);
        assertThat(status.withCondition("Ready", true, "Started", "", java.time.Instant.now()).conditions().getFirst().lastTransitionTime())
                .isEqualTo(java.time.Instant.EPOCH);
    }

    @Test
    void aBinaryYamlValueIsItsBase64TextNotAnArrayIdentity() {
        var yaml = "apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: a}\nspec: {command: [x], key: !!binary aGk=}\n";

        var spec = parser.parse("a", yaml).getFirst().spec();

        assertThat(spec.get("key").asText()).isEqualTo("aGk=");
        assertThat(parser.parse("a", yaml).getFirst().spec()).isEqualTo(spec);
    }

    @Test
    void resourceRoundTripsThroughJson() throws Exception {
        var r = parser.parse("a", "apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: a}\nspec: {command: [x], extra: 1}\n").getFirst();
        var json = Json.json().writeValueAsString(r);
        assertThat(Json.json().readValue(json, Resource.class)).isEqualTo(r);
    }
}
