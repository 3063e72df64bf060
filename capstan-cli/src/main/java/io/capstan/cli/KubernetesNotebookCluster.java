package io.capstan.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import io.capstan.core.Resource;
import io.capstan.kubernetes.NotebookObjects;
import io.capstan.notebooks.NotebookCluster;
import java.net.URI;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/** Kubernetes mode's notebooks: {@link NotebookObjects} on the server backend's cluster. */
final class KubernetesNotebookCluster implements NotebookCluster {
    private final NotebookObjects objects;
    private final Optional<URI> capstanUrl;
    private final UnaryOperator<URI> resolve;

    /** @param capstanUrl the URL pods reach this server by ({@code --cluster-url}); empty gives notebooks no token */
    KubernetesNotebookCluster(NotebookObjects objects, Optional<URI> capstanUrl) {
        this(objects, capstanUrl, UnaryOperator.identity());
    }

    /** @param resolve turns the Service's address into the one to connect to (a test's server on the loopback) */
    KubernetesNotebookCluster(NotebookObjects objects, Optional<URI> capstanUrl, UnaryOperator<URI> resolve) {
        this.objects = Objects.requireNonNull(objects, "objects");
        this.capstanUrl = Objects.requireNonNull(capstanUrl, "capstanUrl");
        this.resolve = Objects.requireNonNull(resolve, "resolve");
    }

    @Override
    public Optional<URI> capstanUrl() {
        return capstanUrl;
    }

    @Override
    public void apply(Resource notebook, Optional<String> newToken) {
        var doc = Json.json().createObjectNode();
        var metadata = doc.putObject("metadata");
        metadata.put("name", notebook.metadata().name()).put("namespace", notebook.metadata().namespace());
        ObjectNode annotations = metadata.putObject("annotations");
        notebook.metadata().annotations().forEach(annotations::put);
        doc.set("spec", notebook.spec());
        var access = capstanUrl.map(url -> new NotebookObjects.Access(url.toString(), newToken));
        objects.apply(doc, notebook.metadata().namespace(), notebook.metadata().name(), access);
    }

    @Override
    public Optional<Observed> observe(String namespace, String name) {
        return objects.observe(namespace, name).map(o -> new Observed(o.replicas(), o.readyReplicas()));
    }

    @Override
    public void delete(String namespace, String name) {
        objects.delete(namespace, name);
    }

    @Override
    public void reap(Set<String> namespaces, Set<String> live) {
        objects.reap(namespaces, live);
    }

    @Override
    public URI address(String namespace, String name) {
        return resolve.apply(URI.create("http://" + objects.host(namespace, name) + ":80"));
    }
}
