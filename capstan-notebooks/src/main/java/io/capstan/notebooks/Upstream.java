package io.capstan.notebooks;

/**
 * Where a notebook server listens and the token it wants: {@code http://127.0.0.1:<port>} plus the notebook's base
 * path. Never leaves Capstan.
 *
 * @param stripPrefix whether the server expects paths without the base path (VS Code, RStudio), as Kubeflow's
 *                    {@code notebooks.kubeflow.org/http-rewrite-uri} makes Istio do
 */
record Upstream(int port, String basePath, String token, boolean stripPrefix) {
    /** The server's base URL, ending in {@code /}. */
    String httpBase() {
        return "http://127.0.0.1:" + port + (stripPrefix ? "/" : basePath);
    }

    /** The upstream path for a request to {@code path} under the notebook's base path. */
    String pathFor(String path) {
        if (!stripPrefix) return path;
        return "/" + path.substring(Math.min(path.length(), basePath.length()));
    }
}
