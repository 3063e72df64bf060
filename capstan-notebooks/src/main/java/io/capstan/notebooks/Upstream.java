package io.capstan.notebooks;

/**
 * Where a notebook server listens and the token it wants: {@code http://<host>:<port>} plus the notebook's base path;
 * the host is 127.0.0.1 for a server on this machine, the notebook's Service in Kubernetes mode. Never leaves Capstan.
 *
 * @param token       the server's Jupyter token; empty where the server takes none (upstream's images in a cluster)
 * @param stripPrefix whether the server expects paths without the base path (VS Code, RStudio), as Kubeflow's
 *                    {@code notebooks.kubeflow.org/http-rewrite-uri} makes Istio do
 */
record Upstream(String host, int port, String basePath, String token, boolean stripPrefix) {
    Upstream(int port, String basePath, String token, boolean stripPrefix) {
        this("127.0.0.1", port, basePath, token, stripPrefix);
    }

    /** {@code host:port}. */
    String authority() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** The server's base URL, ending in {@code /}. */
    String httpBase() {
        return "http://" + authority() + (stripPrefix ? "/" : basePath);
    }

    /** The upstream path for a request to {@code path} under the notebook's base path. */
    String pathFor(String path) {
        if (!stripPrefix) return path;
        return "/" + path.substring(Math.min(path.length(), basePath.length()));
    }
}
