package io.capstan.cli;

import io.capstan.core.CapstanConfig;
import io.capstan.server.CapstanServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.net.BindException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "server", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Run the Capstan server in the foreground until interrupted.")
final class ServerCommand implements Callable<Integer> {
    @ParentCommand
    private Capstan root;

    @Spec
    private CommandSpec spec;

    @Option(names = "--port", paramLabel = "N", description = "HTTP port (default: $CAPSTAN_PORT, else 8080; 0 picks a free one).")
    private Integer port;

    @Option(names = "--grpc-port", paramLabel = "N", description = "gRPC port (default: $CAPSTAN_GRPC_PORT, else 8081).")
    private Integer grpcPort;

    @Option(names = "--home", paramLabel = "DIR", description = "Data folder (default: $CAPSTAN_HOME, else ~/.capstan).")
    private Path home;

    @Option(names = "--db-url", paramLabel = "URL",
            description = "JDBC URL of the database (default: $CAPSTAN_DB_URL, else embedded H2 under the data folder).")
    private String dbUrl;

    @Option(names = "--db-password-file", paramLabel = "FILE",
            description = "File holding the database password (default: $CAPSTAN_DB_PASSWORD_FILE, else $CAPSTAN_DB_PASSWORD). "
                    + "A password inside --db-url is refused: it would show in ps and in logs.")
    private Path dbPasswordFile;

    @Option(names = "--rotate-secret-key",
            description = "Do not serve: make a new key for Secrets, re-encrypt every stored Secret with it, delete the old key, and exit. "
                    + "Stop the server first; if interrupted, Secrets stay readable and running it again finishes.")
    private boolean rotateSecretKey;

    @Option(names = "--backend", paramLabel = "BACKEND", defaultValue = "local",
            description = "Where workloads run: local (child processes and containers on this machine) or kubernetes (Pods and Jobs; "
                    + "see Running on Kubernetes in README) (default: ${DEFAULT-VALUE}).")
    private String backend;

    @Option(names = "--kubeconfig", paramLabel = "FILE", description = "With --backend kubernetes: the kubeconfig (default: in-cluster, $KUBECONFIG, ~/.kube/config).")
    private Path kubeconfig;

    @Option(names = "--context", paramLabel = "NAME", description = "With --backend kubernetes: the kubeconfig's context (default: its current one).")
    private String context;

    @Option(names = "--namespace-map", paramLabel = "MAP",
            description = "With --backend kubernetes: FROM=TO pairs, comma-separated, mapping Capstan namespaces to the cluster's; *=TO maps the rest "
                    + "(default: each to the namespace of the same name, watching all namespaces).")
    private String namespaceMap;

    @Option(names = "--cluster-url", paramLabel = "URL",
            description = "With --backend kubernetes: the URL the cluster's pods reach this server by, which notebooks find in CAPSTAN_SERVER "
                    + "with a token (default: $CAPSTAN_CLUSTER_URL; without it notebooks get neither).")
    private String clusterUrl;

    @Option(names = "--kueue-queue", paramLabel = "QUEUE",
            description = "With --backend kubernetes: label training gangs for this Kueue LocalQueue and leave their admission to Kueue.")
    private String kueueQueue;

    @Option(names = "--verbose", description = "On error, print the stack trace as well as the message.")
    private boolean verbose;

    @Option(names = "--metrics-public", description = "Serve /metrics without a token (default: $CAPSTAN_METRICS_PUBLIC, else false).")
    private boolean metricsPublic;

    @Option(names = "--allowed-hosts", paramLabel = "NAMES",
            description = "Host names, comma-separated, that requests may address besides localhost and loopback addresses "
                    + "(default: $CAPSTAN_ALLOWED_HOSTS); others are refused, against DNS rebinding.")
    private String allowedHosts;

    @Option(names = "--oidc-issuer", paramLabel = "URL",
            description = "Also accept JWTs from this OpenID Connect issuer, such as Dex or Keycloak (default: $CAPSTAN_OIDC_ISSUER).")
    private String oidcIssuer;

    @Option(names = "--oidc-audience", paramLabel = "ID",
            description = "The client id the JWT's aud must name; required with --oidc-issuer (default: $CAPSTAN_OIDC_AUDIENCE).")
    private String oidcAudience;

    @Option(names = "--oidc-user-claim", paramLabel = "CLAIM",
            description = "The claim that names the user (default: $CAPSTAN_OIDC_USER_CLAIM, else email).")
    private String oidcUserClaim;

    @Option(names = "--oidc-jwks-url", paramLabel = "URL",
            description = "Where the signing keys are (default: $CAPSTAN_OIDC_JWKS_URL, else the issuer's discovery document).")
    private String oidcJwksUrl;

    @Override
    public Integer call() throws InterruptedException {
        var config = config(root.env());
        var security = security(root.env());
        if (rotateSecretKey) {
            var rotation = CapstanServer.rotateSecretKey(config);
            var out = spec.commandLine().getOut();
            out.println("Secrets are now encrypted with key " + rotation.newKeyId() + "; re-encrypted " + rotation.rewrittenRows()
                    + " stored rows" + (rotation.retiredKeyIds().isEmpty() ? "" : "; deleted the old keys " + String.join(", ", rotation.retiredKeyIds())));
            out.flush();
            return ExitCodes.OK;
        }
        long startNanos = System.nanoTime();
        var server = start(config, security, workloads(root.env()));
        // Ctrl-C ends the JVM; closing here lets the database and child processes stop cleanly.
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("capstan-shutdown").unstarted(server::close));
        var out = spec.commandLine().getOut();
        out.println(banner(server, config, readyTime(startNanos)));
        out.flush();
        server.awaitTermination();
        return ExitCodes.OK;
    }

    CapstanConfig config(Map<String, String> env) {
        var config = CapstanConfig.fromEnvironment(env);
        if (home != null) config = config.withHome(home);
        if (dbUrl != null && !dbUrl.isBlank()) config = config.withDbUrl(dbUrl);
        if (dbPasswordFile != null) config = config.withDbPasswordFile(dbPasswordFile, env);
        if (port != null) config = config.withPort(port);
        if (grpcPort != null) config = config.withGrpcPort(grpcPort);
        else if (port != null && port == 0 && !env.containsKey("CAPSTAN_GRPC_PORT")) config = config.withGrpcPort(0);
        if (metricsPublic) config = config.withMetricsPublic(true);
        return config;
    }

    /** OIDC and host names: each flag, else its environment variable. */
    io.capstan.security.SecuritySettings security(Map<String, String> env) {
        return io.capstan.security.SecuritySettings.of(
                flagOrEnv(allowedHosts, env, "CAPSTAN_ALLOWED_HOSTS"), flagOrEnv(oidcIssuer, env, "CAPSTAN_OIDC_ISSUER"),
                flagOrEnv(oidcAudience, env, "CAPSTAN_OIDC_AUDIENCE"), flagOrEnv(oidcUserClaim, env, "CAPSTAN_OIDC_USER_CLAIM"),
                flagOrEnv(oidcJwksUrl, env, "CAPSTAN_OIDC_JWKS_URL"));
    }

    private static String flagOrEnv(String flag, Map<String, String> env, String name) {
        return flag != null ? flag : env.get(name);
    }

    /** Starts the server, turning a port already in use into a sentence that says what to do. */
    static CapstanServer start(CapstanConfig config) {
        return start(config, io.capstan.security.SecuritySettings.defaults());
    }

    static CapstanServer start(CapstanConfig config, io.capstan.security.SecuritySettings security) {
        return start(config, security, java.util.Optional.empty());
    }

    /** Where workloads run: empty for the local backend, else the Kubernetes one the flags describe. */
    java.util.Optional<io.capstan.server.KubernetesMode.WorkloadBackend> workloads(Map<String, String> env) {
        if (backend.equals("local")) {
            if (kubeconfig != null || context != null || namespaceMap != null || kueueQueue != null || clusterUrl != null) {
                throw new UsageException("--kubeconfig, --context, --namespace-map, --kueue-queue and --cluster-url need --backend kubernetes");
            }
            return java.util.Optional.empty();
        }
        if (!backend.equals("kubernetes")) {
            throw new UsageException("--backend " + io.capstan.core.Names.printable(backend) + ": expected local or kubernetes");
        }
        var capstanUrl = clusterUrl(flagOrEnv(clusterUrl, env, "CAPSTAN_CLUSTER_URL"));
        if (kubeconfig != null && !java.nio.file.Files.isReadable(kubeconfig)) {
            throw new UsageException("--kubeconfig " + kubeconfig + ": no such readable file");
        }
        var map = io.capstan.kubernetes.ServerBackend.NamespaceMap.parse(namespaceMap);
        var queue = java.util.Optional.ofNullable(kueueQueue);
        var file = java.util.Optional.ofNullable(kubeconfig);
        var ctx = java.util.Optional.ofNullable(context);
        return java.util.Optional.of(new io.capstan.server.KubernetesMode.WorkloadBackend() {
            @Override
            public io.capstan.backend.Backend open(java.nio.file.Path stateDir) {
                return io.capstan.kubernetes.ServerBackend.open(io.capstan.kubernetes.KubeClients.create(file, ctx), stateDir, map, queue);
            }

            @Override
            public java.util.Optional<io.capstan.notebooks.NotebookCluster> notebooks(io.capstan.backend.Backend opened) {
                return opened instanceof io.capstan.kubernetes.ServerBackend b
                        ? b.notebooks().map(o -> new KubernetesNotebookCluster(o, capstanUrl)) : java.util.Optional.empty();
            }
        });
    }

    /** {@code value} as the server's in-cluster URL: an absolute http(s) URL without a query or fragment; blank is none. */
    static java.util.Optional<java.net.URI> clusterUrl(String value) {
        if (value == null || value.isBlank()) return java.util.Optional.empty();
        java.net.URI uri;
        try {
            uri = new java.net.URI(value.strip());
        } catch (java.net.URISyntaxException e) {
            throw new UsageException("--cluster-url (CAPSTAN_CLUSTER_URL) '" + io.capstan.core.Names.printable(value) + "' is not a URL: " + e.getReason());
        }
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null
                || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw new UsageException("--cluster-url (CAPSTAN_CLUSTER_URL) '" + io.capstan.core.Names.printable(value)
                    + "' must be an http or https URL with a host, such as http://capstan.capstan-system.svc:8080");
        }
        return java.util.Optional.of(uri);
    }

    static CapstanServer start(CapstanConfig config, io.capstan.security.SecuritySettings security,
                               java.util.Optional<io.capstan.server.KubernetesMode.WorkloadBackend> workloads) {
        try {
            return CapstanServer.start(config, security, workloads);
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof BindException) {
                    throw new CommandFailedException("cannot listen on " + config.host() + " port " + config.port()
                            + " or " + config.grpcPort() + ": already in use; stop the other process or pass --port and --grpc-port", e);
                }
            }
            throw e;
        }
    }

    /** The one line that says the server is up: version, URL, home, database and start-up time. */
    static String banner(CapstanServer server, CapstanConfig config, Duration readyIn) {
        return "Capstan " + Version.client() + " listening on " + server.url() + " and gRPC port " + server.grpcPort()
                + " (home " + config.home() + ", database " + database(config) + ") ready in " + readyIn.toMillis() + " ms";
    }

    static String database(CapstanConfig config) {
        if (config.isEmbeddedDatabase()) return "h2 embedded";
        var url = config.dbUrl();
        if (url.startsWith("jdbc:postgresql:")) return "postgresql";
        var parts = url.split(":", 3);
        return parts.length > 1 ? parts[1].toLowerCase(Locale.ROOT) : "unknown";
    }

    /** Time since the process started, which is what a user waits for; since {@code fallbackNanos} where unknown. */
    static Duration readyTime(long fallbackNanos) {
        return ProcessHandle.current().info().startInstant()
                .map(start -> Duration.between(start, Instant.now()))
                .filter(d -> !d.isNegative())
                .orElse(Duration.ofNanos(System.nanoTime() - fallbackNanos));
    }
}
