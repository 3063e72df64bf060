package io.capstan.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** deploy/helm/capstan, linted and rendered by Helm itself (helm-java's native library), parsed with fabric8. */
final class HelmChart {
    static final Path REPO = Path.of(System.getProperty("capstan.repo.root", "..")).toAbsolutePath().normalize();
    static final Path DIR = REPO.resolve("deploy/helm/capstan");
    static final String RELEASE = "capstan";
    static final String NAMESPACE = "ml";
    /** The cluster version templates are rendered for; the chart requires 1.27 or newer (policy/v1, batch/v1 Indexed Jobs). */
    static final String KUBE_VERSION = "v1.33.0";
    private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private HelmChart() {
    }

    static LintResult lintStrict() {
        return new Helm(DIR).lint().strict().call();
    }

    /** What {@code helm template} prints for these values; throws with Helm's message when it refuses them. */
    static String template(Map<String, Object> set, Optional<Path> valuesFile) {
        return template(RELEASE, set, valuesFile);
    }

    static String template(String release, Map<String, Object> set, Optional<Path> valuesFile) {
        TemplateCommand cmd = new Helm(DIR).template().withName(release).withNamespace(NAMESPACE).withKubeVersion(KUBE_VERSION);
        valuesFile.ifPresent(cmd::withValuesFile);
        set.forEach(cmd::set);
        return cmd.call();
    }

    static Rendered render(Map<String, Object> set) {
        return Rendered.parse(template(set, Optional.empty()));
    }

    static Rendered render(String release, Map<String, Object> set, Optional<Path> valuesFile) {
        return Rendered.parse(template(release, set, valuesFile));
    }

    /** The objects of one rendering, by kind and name. */
    record Rendered(String yaml, List<HasMetadata> objects) {
        static Rendered parse(String yaml) {
            var objects = new ArrayList<HasMetadata>();
            for (var doc : DOCUMENT_SEPARATOR.split(yaml)) {
                boolean empty = doc.lines().map(String::strip).allMatch(l -> l.isEmpty() || l.startsWith("#"));
                if (empty) continue;
                KubernetesResource r = SERIALIZATION.unmarshal(doc, KubernetesResource.class);
                if (!(r instanceof HasMetadata o)) throw new AssertionError("not a Kubernetes object:\n" + doc);
                objects.add(o);
            }
            return new Rendered(yaml, List.copyOf(objects));
        }

        <T extends HasMetadata> List<T> all(Class<T> type) {
            return objects.stream().filter(type::isInstance).map(type::cast).toList();
        }

        <T extends HasMetadata> T one(Class<T> type) {
            var found = all(type);
            if (found.size() != 1) throw new AssertionError("expected one " + type.getSimpleName() + ", found " + found.size() + " in\n" + yaml);
            return found.getFirst();
        }

        Map<String, HasMetadata> byKindAndName() {
            var m = new LinkedHashMap<String, HasMetadata>();
            objects.forEach(o -> m.put(o.getKind() + "/" + o.getMetadata().getName(), o));
            return m;
        }
    }

    static Path file(String relative) {
        var p = DIR.resolve(relative);
        if (!Files.isRegularFile(p)) throw new AssertionError("no file " + p);
        return p;
    }
}
