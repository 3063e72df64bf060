package io.capstan.notebooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.core.InvalidSpecException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The path a request under {@code /notebook/<namespace>/<name>/} takes upstream, as Istio's route rewrites it in Kubeflow. */
class UpstreamTest {
    static final String BASE = "/notebook/team-a/code/";

    private static Upstream upstream(Map<String, String> annotations, ServerType type) {
        return new Upstream(8888, BASE, Upstream.target(annotations, type, BASE), "", type);
    }

    @Test
    void jupyterKeepsTheBasePathAndVsCodeServesAtTheRootByDefault() {
        var jupyter = upstream(Map.of(), ServerType.JUPYTER);
        assertThat(jupyter.pathFor(BASE + "api/status")).isEqualTo(BASE + "api/status");
        assertThat(jupyter.httpBase()).isEqualTo("http://127.0.0.1:8888" + BASE);
        var code = upstream(Map.of(), ServerType.VSCODE);
        assertThat(code.pathFor(BASE)).isEqualTo("/");
        assertThat(code.pathFor(BASE + "static/out/x.css")).isEqualTo("/static/out/x.css");
        assertThat(code.httpBase()).isEqualTo("http://127.0.0.1:8888/");
    }

    @Test
    void theRewriteAnnotationReplacesThePrefixAsIstioDoes() {
        var rstudio = upstream(Map.of(Upstream.REWRITE_ANNOTATION, "/"), ServerType.RSTUDIO);
        assertThat(rstudio.pathFor(BASE + "rstudio/s/1")).isEqualTo("/rstudio/s/1");
        var elsewhere = upstream(Map.of(Upstream.REWRITE_ANNOTATION, "/ui/"), ServerType.JUPYTER);
        assertThat(elsewhere.pathFor(BASE + "lab")).isEqualTo("/ui/lab");
        assertThat(elsewhere.httpBase()).isEqualTo("http://127.0.0.1:8888/ui/");
        // An annotation naming the base path itself leaves paths alone, even for VS Code.
        assertThat(upstream(Map.of(Upstream.REWRITE_ANNOTATION, BASE), ServerType.VSCODE).pathFor(BASE + "x")).isEqualTo(BASE + "x");
    }

    @Test
    void aRewriteThatIsNotAPathIsRefused() {
        for (var bad : new String[] {"", "root", "/a b", "/x?y"}) {
            assertThatThrownBy(() -> Upstream.target(Map.of(Upstream.REWRITE_ANNOTATION, bad), ServerType.VSCODE, BASE))
                    .as(bad).isInstanceOf(InvalidSpecException.class).hasMessageContaining("notebooks.kubeflow.org/http-rewrite-uri");
        }
    }
}
