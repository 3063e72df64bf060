package io.capstan.cli;

import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.NotFoundException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class ExitCodesTest {
    private static ApiException api(int status) {
        return ApiException.of(status, "{\"detail\":\"x\"}".getBytes(StandardCharsets.UTF_8), "");
    }

    @Test
    void mapsEachExceptionTypeToItsDocumentedCode() {
        assertThat(ExitCodes.of(ServerUnreachableException.of("http://h", "connection refused", null))).isEqualTo(6);
        assertThat(ExitCodes.of(new UsageException("bad"))).isEqualTo(2);
        assertThat(ExitCodes.of(new NotFoundException("gone"))).isEqualTo(3);
        assertThat(ExitCodes.of(new ConflictException("changed"))).isEqualTo(4);
        assertThat(ExitCodes.of(new InvalidSpecException("wrong"))).isEqualTo(5);
        assertThat(ExitCodes.of(new CommandFailedException("job failed"))).isEqualTo(1);
        assertThat(ExitCodes.of(new IllegalStateException("bug"))).isEqualTo(1);
    }

    @Test
    void mapsServerStatusesToCodes() {
        assertThat(ExitCodes.of(api(400))).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(ExitCodes.of(api(413))).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(ExitCodes.of(api(404))).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(ExitCodes.of(api(409))).isEqualTo(ExitCodes.CONFLICT);
        assertThat(ExitCodes.of(api(503))).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(ExitCodes.of(api(500))).isEqualTo(ExitCodes.FAILURE);
    }

    @Test
    void problemDetailAndEachFieldErrorBecomeLinesOfTheMessage() {
        var body = """
                {"type":"about:blank","title":"Bad Request","status":400,"detail":"job.yaml has 2 invalid fields",
                 "errors":[{"source":"","document":0,"field":"spec.command","line":7,"message":"must not be empty"},
                           {"source":"","document":1,"field":"metadata.name","line":3,"message":"'X' is not a DNS-1123 subdomain"}]}""";

        var e = ApiException.of(400, body.getBytes(StandardCharsets.UTF_8), "job.yaml");

        assertThat(e.getMessage().lines()).containsExactly(
                "job.yaml has 2 invalid fields",
                "  job.yaml:7: spec.command: must not be empty",
                "  job.yaml[document 2]:3: metadata.name: 'X' is not a DNS-1123 subdomain");
    }

    @Test
    void aBodyThatIsNotAProblemIsShownShortenedAndEscaped() {
        var e = ApiException.of(502, "<html>\n<body>Bad gateway</body></html>".getBytes(StandardCharsets.UTF_8), "");

        assertThat(e.getMessage()).isEqualTo("the server answered HTTP 502: <html> <body>Bad gateway</body></html>");
    }
}
