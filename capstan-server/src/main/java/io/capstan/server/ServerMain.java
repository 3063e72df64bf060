package io.capstan.server;

import io.capstan.core.CapstanConfig;

/** Runs the server from the environment alone; the CLI's {@code capstan server} is the usual entry point. */
public final class ServerMain {
    private ServerMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        var server = CapstanServer.start(CapstanConfig.fromEnvironment(System.getenv()), io.capstan.security.SecuritySettings.fromEnvironment(System.getenv()));
        System.out.println("Capstan listening on " + server.url());
        server.awaitTermination();
    }
}
