package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.CapstanConfig;
import io.capstan.core.Json;
import io.capstan.kubernetes.ServerBackend;
import io.capstan.security.SecuritySettings;
import io.capstan.server.CapstanServer;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * {@code capstan server --backend kubernetes} in this JVM against a mock cluster
 * ({@link io.capstan.kubernetes.testing.MockCluster}), every namespace mapped onto one of the cluster's, as the
 * CLI's Kubernetes-mode tests run it.
 */
final class KubernetesModeServer {
    private KubernetesModeServer() {
    }

    /** Starts it in {@code home}, resyncing every 2 s; {@code backend} may add to the backend it opens (where predictors go). */
    static CapstanServer start(Path home, KubernetesMockServer cluster, String namespace, UnaryOperator<ServerBackend> backend) {
        var map = ServerBackend.NamespaceMap.parse("*=" + namespace);
        return CapstanServer.start(CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0", "CAPSTAN_GRPC_PORT", "0",
                        "CAPSTAN_RESYNC_SECONDS", "2")), SecuritySettings.defaults(),
                Optional.of(dir -> backend.apply(ServerBackend.open(cluster.createClient(), dir, map, Optional.empty()))));
    }

    /** The resource as {@code capstan get -o json} prints it, or an empty object while there is none. */
    static JsonNode resource(Cli admin, String plural, String ns, String name) {
        var run = admin.run("get", plural, name, "-n", ns, "-o", "json");
        try {
            return run.exitCode() == 0 ? Json.json().readTree(run.out()) : Json.json().createObjectNode();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
