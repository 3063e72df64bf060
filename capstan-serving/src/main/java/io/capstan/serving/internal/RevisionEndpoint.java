package io.capstan.serving.internal;

import io.capstan.serving.api.InferenceEndpoint;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.ModelMetadata;
import io.capstan.serving.api.ModelNotFoundException;
import io.capstan.serving.api.ServerMetadata;
import java.util.List;
import java.util.Map;

/** One revision, not routed publicly, as an endpoint: the predictor behind a transformer. */
final class RevisionEndpoint implements InferenceEndpoint {
    private final String namespace;
    private final String name;
    private final Revision revision;

    RevisionEndpoint(String namespace, String name, Revision revision) {
        this.namespace = namespace;
        this.name = name;
        this.revision = revision;
    }

    private void check(String namespace, String name) {
        if (!this.namespace.equals(namespace) || !this.name.equals(name)) {
            throw new ModelNotFoundException("the predictor serves model '" + this.name + "' only");
        }
    }

    @Override
    public boolean serverLive() {
        return true;
    }

    @Override
    public boolean serverReady() {
        return revision.ready();
    }

    @Override
    public ServerMetadata serverMetadata() {
        return new ServerMetadata(ModelServer.SERVER_NAME, ModelServer.SERVER_VERSION, List.of());
    }

    @Override
    public boolean modelReady(String namespace, String name, String version) {
        check(namespace, name);
        return revision.ready();
    }

    @Override
    public List<String> modelNames(String namespace) {
        return this.namespace.equals(namespace) ? List.of(name) : List.of();
    }

    @Override
    public ModelMetadata modelMetadata(String namespace, String name, String version) {
        check(namespace, name);
        return new ModelMetadata(name, List.of(revision.version()), revision.platform(), revision.inputs(), revision.outputs(), Map.of());
    }

    @Override
    public InferenceResponse infer(String namespace, String name, String version, InferenceRequest request) {
        check(namespace, name);
        return revision.infer(request);
    }
}
