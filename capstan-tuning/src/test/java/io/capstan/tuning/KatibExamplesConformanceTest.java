package io.capstan.tuning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.store.testing.Conformance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every Experiment in Katib's own examples is accepted, or refused for a reason listed in
 * {@code katib-refused.tsv}. The corpus is read in place from {@code ../shared/conformance}.
 */
class KatibExamplesConformanceTest {
    static final Path EXAMPLES = Conformance.path("katib/examples/v1beta1");
    private final ResourceParser parser = new ResourceParser(ResourceKinds.of(Experiments.kinds()));

    static Stream<Path> examples() {
        Conformance.require(EXAMPLES);
        try (var files = Files.walk(EXAMPLES)) {
            return files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList().stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, String> refused() {
        return tsv("/katib-refused.tsv");
    }

    static Map<String, String> tsv(String resource) {
        var out = new HashMap<String, String>();
        try (var in = KatibExamplesConformanceTest.class.getResourceAsStream(resource)) {
            for (var line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                var cols = line.split("\t");
                out.put(cols[0], cols[1]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void everyExperimentIsAcceptedOrRefusedForAListedReason(Path file) throws IOException {
        var relative = EXAMPLES.relativize(file).toString();
        var text = Files.readString(file);
        var expectedRefusal = refused().get(relative);
        if (expectedRefusal == null) {
            var resources = parser.parse(relative, text);
            assertThat(resources).isNotEmpty().allSatisfy(r -> assertThat(r.kind()).isEqualTo(Experiments.EXPERIMENT));
            for (var r : resources) new ExperimentSpecReader(SearchCatalog.KATIB).read(r.spec());
        } else {
            var e = catchThrowableOfType(InvalidSpecException.class, () -> parser.parse(relative, text));
            assertThat(e).as("%s is listed as refused but was accepted", relative).isNotNull();
            assertThat(e.getMessage()).contains(expectedRefusal);
        }
    }

    /**
     * An accepted example can run offline when the programs its trial's containers name exist here (a batch/v1 Job, or
     * a PyTorchJob, XGBoostJob or TrainJob run through capstan-training); none of Katib's do (they need their images'
     * code), and each is listed with why in {@code katib-not-runnable.tsv}.
     */
    @Test
    void listsEveryAcceptedExampleThatCannotRunOfflineWithAReason() throws IOException {
        var notRunnable = tsv("/katib-not-runnable.tsv");
        var refusals = refused();
        int runnable = 0;
        for (var file : examples().toList()) {
            var relative = EXAMPLES.relativize(file).toString();
            if (refusals.containsKey(relative)) continue;
            var spec = new ExperimentSpecReader(SearchCatalog.KATIB).read(parser.parse(relative, Files.readString(file)).getFirst().spec());
            var template = spec.trialTemplate().trialSpec().orElseThrow();
            assertThat(TrialJobs.isRunnable(template)).as("%s was accepted, so its trial kind can run", relative).isTrue();
            // Without a command, a container runs its image's entrypoint, which is not here (images are not pulled).
            boolean offline = spec.collector().kind().refusal().isEmpty() && !template.findValues("command").isEmpty()
                    && programsExist(commands(TrialCommand.substitute(template, n -> "1")));
            if (offline) runnable++;
            assertThat(notRunnable.containsKey(relative)).as("%s: runnable offline=%s, listed as not runnable=%s", relative, offline, notRunnable.containsKey(relative))
                    .isEqualTo(!offline);
        }
        System.out.printf("Katib examples runnable offline: %d; not runnable: %d (katib-not-runnable.tsv)%n", runnable, notRunnable.size());
    }

    /** Every command and args entry in the trial spec: of a Job's containers, a training job's replicas or a TrainJob's trainer. */
    private static List<String> commands(com.fasterxml.jackson.databind.JsonNode trialSpec) {
        var out = new java.util.ArrayList<String>();
        for (var field : List.of("command", "args")) {
            trialSpec.findValues(field).forEach(list -> list.forEach(n -> out.add(n.asText())));
        }
        return out;
    }

    private static boolean programsExist(List<String> command) {
        return command.stream().filter(a -> a.endsWith(".py") || a.startsWith("/")).allMatch(a -> Files.exists(Path.of(a)));
    }

    @Test
    void countsAcceptedAndRefusedExamples() throws IOException {
        int accepted = 0, refused = 0, documents = 0;
        var refusals = refused();
        for (var file : examples().toList()) {
            var docs = Json.yaml().readValues(Json.yaml().createParser(file.toFile()), com.fasterxml.jackson.databind.JsonNode.class).readAll();
            for (var d : docs) if (d != null && "Experiment".equals(d.path("kind").asText())) documents++;
            if (refusals.containsKey(EXAMPLES.relativize(file).toString())) refused++;
            else accepted++;
        }
        System.out.printf("Katib examples: %d files, %d Experiment documents, %d accepted, %d refused (katib-refused.tsv)%n",
                accepted + refused, documents, accepted, refused);
        assertThat(accepted + refused).isEqualTo(documents);
        assertThat(refusals.keySet()).allSatisfy(f -> assertThat(EXAMPLES.resolve(f)).exists());
        assertThat(List.copyOf(refusals.keySet())).hasSizeLessThanOrEqualTo(documents);
    }
}
