package io.capstan.notebooks;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import java.util.Map;

/**
 * Where a notebook server listens and the token it wants: {@code http://<host>:<port>} plus the path that the notebook's
 * base path becomes there; the host is 127.0.0.1 for a server on this machine, the notebook's Service in Kubernetes
 * mode. Never leaves Capstan.
 *
 * @param target the path the base path is rewritten to upstream: the base path itself, or Kubeflow's
 *               {@code notebooks.kubeflow.org/http-rewrite-uri} (by default {@code /} for VS Code), as Istio's
 *               prefix rewrite does for servers that serve at {@code /}
 * @param token  the server's Jupyter token; empty where the server takes none (code-server, upstream's images in a cluster)
 * @param type   what the server is, which says how to ask it whether it answers ({@link ServerProbes})
 */
record Upstream(String host, int port, String basePath, String target, String token, ServerType type) {
    static final String REWRITE_ANNOTATION = "notebooks.kubeflow.org/http-rewrite-uri";

    Upstream(int port, String basePath, String target, String token, ServerType type) {
        this("127.0.0.1", port, basePath, target, token, type);
    }

    /**
     * The path the base path becomes upstream: the annotation's, else {@code /} for VS Code (which serves at the root,
     * as Kubeflow's web app annotates such notebooks), else the base path.
     *
     * @throws InvalidSpecException naming the annotation when its value is not an absolute path
     */
    static String target(Map<String, String> annotations, ServerType type, String basePath) {
        var rewrite = annotations.get(REWRITE_ANNOTATION);
        if (rewrite == null) return type == ServerType.VSCODE ? "/" : basePath;
        if (!rewrite.startsWith("/") || rewrite.chars().anyMatch(c -> c <= ' ' || c == '?' || c == '#' || c == 0x7f)) {
            throw InvalidSpecException.of("metadata.annotations[" + REWRITE_ANNOTATION + "]", "'" + Names.printable(rewrite)
                    + "' is not a path: give the path the server serves at, such as /");
        }
        return rewrite;
    }

    /** {@code host:port}. */
    String authority() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** The server's base URL, ending in {@code /}. */
    String httpBase() {
        return "http://" + authority() + (target.endsWith("/") ? target : target + "/");
    }

    /** The upstream path for a request to {@code path} under the notebook's base path: its prefix replaced, as Istio does. */
    String pathFor(String path) {
        if (target.equals(basePath) || !path.startsWith(basePath)) return path;
        return target + path.substring(basePath.length());
    }
}
