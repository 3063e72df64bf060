package io.capstan.kubernetes.testing;

import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;

/**
 * fabric8's mock API server in CRUD mode: objects created through it are stored, listed, watched and patched as a
 * real API server would, but nothing runs them; a test plays the kubelet and the controllers with {@link Kubelet}.
 * Expectations ({@code expect()}) still answer first, which is how {@link Kubelet} serves pods' logs.
 */
public final class MockCluster {
    private MockCluster() {
    }

    /** Starts one on a free port; the caller destroys it. */
    public static KubernetesMockServer start() {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        var server = new KubernetesMockServer(new Context(), new MockWebServer(), responses, new KubernetesMixedDispatcher(responses), false);
        server.init();
        return server;
    }
}
