package io.capstan.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.CapstanConfig;
import io.capstan.security.SecuritySettings;
import io.capstan.server.CapstanServer;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Capstan server started with the environment the chart gives its container (its listen address, allowed
 * hosts, home folder layout and a key and admin token as the Secrets supply them; the embedded database and local
 * artifacts instead of PostgreSQL and S3), asked what the kubelet and in-cluster clients ask: each probe the chart
 * declares, with the pod's address as Host and no token, and the API through the Service's name.
 */
class ChartProbesTest {
    static final String POD_ADDRESS = "10.244.1.7";

    @TempDir
    Path home;

    Deployment deployment;
    CapstanServer server;
    String adminToken;

    @BeforeEach
    void start() throws IOException {
        deployment = HelmChart.render(Map.of()).one(Deployment.class);
        var container = ChartTest.container(deployment);
        var env = new HashMap<>(ChartTest.env(container));
        env.put("CAPSTAN_HOME", home.toString());
        env.put("CAPSTAN_PORT", "0");
        env.put("CAPSTAN_GRPC_PORT", "0");
        for (var external : new String[] {"CAPSTAN_DB_URL", "CAPSTAN_DB_USER", "CAPSTAN_DB_PASSWORD_FILE", "CAPSTAN_S3_BUCKET", "CAPSTAN_S3_ENDPOINT"}) {
            env.remove(external);
        }
        // What the Secrets hold, made as README's command makes them.
        var key = new byte[32];
        new SecureRandom().nextBytes(key);
        assertThat(ChartTest.secretRef(container, "CAPSTAN_SECRET_KEY")).startsWith("capstan-keys/");
        env.put("CAPSTAN_SECRET_KEY", Base64.getEncoder().encodeToString(key));
        var tokenBytes = new byte[32];
        new SecureRandom().nextBytes(tokenBytes);
        adminToken = HexFormat.of().formatHex(tokenBytes);
        // The chart mounts the token at $CAPSTAN_HOME/token; here the file is where that mount puts it.
        var tokenMount = container.getVolumeMounts().stream().filter(m -> m.getName().equals("keys")).findFirst().orElseThrow().getMountPath();
        var chartHome = ChartTest.env(container).get("CAPSTAN_HOME");
        assertThat(tokenMount).startsWith(chartHome + "/");
        Files.writeString(home.resolve(tokenMount.substring(chartHome.length() + 1)), adminToken + "\n");

        server = CapstanServer.start(CapstanConfig.fromEnvironment(env), SecuritySettings.fromEnvironment(env));
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    @Test
    void everyProbeAnswersTheKubeletWithoutAToken() throws IOException {
        var container = ChartTest.container(deployment);
        var probes = ChartTest.probes(container);
        assertThat(probes).hasSize(3);
        for (var entry : probes.entrySet()) {
            var get = entry.getValue().getHttpGet();
            var port = container.getPorts().stream().filter(p -> p.getName().equals(get.getPort().getStrVal())).findFirst().orElseThrow();
            // The kubelet connects to the pod's address and port and names them as Host.
            var answer = get(get.getPath(), POD_ADDRESS + ":" + port.getContainerPort(), null);
            assertThat(answer.status()).as("%s probe GET %s: %s", entry.getKey(), get.getPath(), answer.body()).isEqualTo(200);
        }
        // The server really routes by path: a path it does not serve is not 200 for the same caller.
        assertThat(get("/healthzz", POD_ADDRESS + ":8080", null).status()).isNotEqualTo(200);
    }

    @Test
    void theApiAnswersThroughTheServiceNameWithTheAdminTokenFromTheSecret() throws IOException {
        var allowed = ChartTest.env(ChartTest.container(deployment)).get("CAPSTAN_ALLOWED_HOSTS").split(",");
        for (var host : allowed) {
            assertThat(get("/version", host + ":8080", null).status()).as("no token, Host %s", host).isEqualTo(401);
            var answer = get("/version", host + ":8080", adminToken);
            assertThat(answer.status()).as("admin token, Host %s: %s", host, answer.body()).isEqualTo(200);
        }
        // A name the chart did not allow is refused before any token is looked at.
        assertThat(get("/version", "capstan.elsewhere.example:8080", adminToken).status()).isEqualTo(421);
    }

    record Answer(int status, String body) {
    }

    /** A GET over a plain socket, so that the Host header is exactly what the kubelet or a client would send. */
    Answer get(String path, String host, String token) throws IOException {
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 5000);
            socket.setSoTimeout(15000);
            var request = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n"
                    + (token == null ? "" : "Authorization: Bearer " + token + "\r\n") + "\r\n";
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            var in = new java.io.BufferedInputStream(socket.getInputStream());
            var statusLine = line(in);
            if (statusLine.isEmpty()) throw new AssertionError("no answer to GET " + path);
            int length = -1;
            boolean chunked = false;
            for (var header = line(in); !header.isEmpty(); header = line(in)) {
                var lower = header.toLowerCase(java.util.Locale.ROOT);
                if (lower.startsWith("content-length:")) length = Integer.parseInt(lower.substring(15).strip());
                if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) chunked = true;
            }
            var body = new java.io.ByteArrayOutputStream();
            if (chunked) {
                for (int size = Integer.parseInt(line(in).split(";")[0].strip(), 16); size > 0; size = Integer.parseInt(line(in).split(";")[0].strip(), 16)) {
                    body.write(in.readNBytes(size));
                    line(in);
                }
            } else if (length > 0) {
                body.write(in.readNBytes(length));
            }
            return new Answer(Integer.parseInt(statusLine.split(" ")[1]), body.toString(StandardCharsets.UTF_8));
        }
    }

    /** One header line, without its CRLF; empty at the end of the headers or of the stream. */
    private static String line(InputStream in) throws IOException {
        var out = new StringBuilder();
        for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
            if (c != '\r') out.append((char) c);
        }
        return out.toString();
    }
}
