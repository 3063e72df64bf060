package io.capstan.registry;

import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.store.Database;
import io.helidon.webserver.WebServer;
import java.time.Clock;

/**
 * The registry's API on a real Helidon server on a free loopback port. A bearer token is the caller's user name
 * ({@code admin} is the server admin), standing in for the server's authentication filter.
 */
final class TestServer implements AutoCloseable {
    private final WebServer server;
    final io.capstan.store.ResourceStore resources;
    final ModelRegistry registry;

    TestServer(Database db, AccessPolicy policy) {
        this(db, policy, null, 0);
    }

    /** A server whose registry keeps uploads in {@code artifacts}, refusing those over {@code maxUploadBytes}. */
    TestServer(Database db, AccessPolicy policy, io.capstan.artifacts.ArtifactStore artifacts, long maxUploadBytes) {
        this(db, policy, artifacts, maxUploadBytes, new io.capstan.core.SecretSealer(io.capstan.core.SecretKeyRing.ofKey(new byte[32])));
    }

    /** As above, sealing webhook secrets with {@code secrets}. */
    TestServer(Database db, AccessPolicy policy, io.capstan.artifacts.ArtifactStore artifacts, long maxUploadBytes, io.capstan.core.SecretSealer secrets) {
        resources = new io.capstan.store.JdbiResourceStore(db, Clock.systemUTC());
        registry = new ModelRegistry(db, Clock.systemUTC(), resources, artifacts, maxUploadBytes, secrets);
        server = WebServer.builder().host("127.0.0.1").port(0).shutdownHook(false)
                .routing(r -> {
                    r.addFilter((chain, req, res) -> {
                        var token = req.headers().first(io.helidon.http.HeaderNames.AUTHORIZATION).map(a -> a.replaceFirst("^Bearer ", "")).orElse(null);
                        if (token != null) req.context().register(token.equals("admin") ? Caller.serverAdmin() : Caller.user(token));
                        chain.proceed();
                    });
                    r.register(ModelRegistry.BASE_PATH, registry.httpService(policy));
                    r.register(ModelRegistry.EXTENSION_PATH, registry.extensionService(policy));
                })
                .build().start();
    }

    String base() {
        return "http://127.0.0.1:" + server.port() + ModelRegistry.BASE_PATH;
    }

    /** Capstan's extension endpoints, relative to the registry's base: {@code base() + extension()} is not needed. */
    String extensionBase() {
        return "http://127.0.0.1:" + server.port() + ModelRegistry.EXTENSION_PATH;
    }

    @Override
    public void close() {
        server.stop();
    }
}
