package io.capstan.notebooks;

import java.net.http.HttpClient;
import java.util.Optional;

/** The probe for each server type: code-server's {@code /healthz} for VS Code, Jupyter's {@code /api/status} otherwise. */
final class ServerProbes implements ServerProbe {
    private final JupyterApi jupyter;
    private final CodeServerApi codeServer;

    ServerProbes(HttpClient http) {
        this.jupyter = new JupyterApi(http);
        this.codeServer = new CodeServerApi(http);
    }

    JupyterApi jupyter() {
        return jupyter;
    }

    @Override
    public Optional<Status> status(Upstream upstream) {
        return switch (upstream.type()) {
            case VSCODE -> codeServer.status(upstream);
            case JUPYTER, RSTUDIO -> jupyter.status(upstream);
        };
    }
}
