package io.capstan.kubernetes;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Builds a client the way kubectl finds its cluster: in-cluster, $KUBECONFIG or ~/.kube/config, or the file and context given. */
public final class KubeClients {
    private KubeClients() {
    }

    /**
     * @param kubeconfig a kubeconfig file; empty uses fabric8's discovery (in-cluster service account, $KUBECONFIG, ~/.kube/config)
     * @param context    a context of that kubeconfig; empty uses its current context
     */
    public static KubernetesClient create(Optional<Path> kubeconfig, Optional<String> context) {
        return new KubernetesClientBuilder().withConfig(config(kubeconfig, context)).build();
    }

    static Config config(Optional<Path> kubeconfig, Optional<String> context) {
        if (kubeconfig.isEmpty()) return context.map(Config::autoConfigure).orElseGet(() -> Config.autoConfigure(null));
        try {
            var text = Files.readString(kubeconfig.get());
            return context.isPresent() ? Config.fromKubeconfig(context.get(), text, kubeconfig.get().toString())
                    : Config.fromKubeconfig(null, text, kubeconfig.get().toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kubeconfig " + kubeconfig.get(), e);
        }
    }
}
