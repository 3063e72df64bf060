package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@code capstan step-io}, the launcher of a pipeline step's pod on Kubernetes, refuses what its pod did not give it,
 * naming it; the S3 round trip itself is tested in capstan-pipelines (StepStageTest) and capstan-server
 * (KubernetesPipelineRunsTest).
 */
class StepIoCommandTest {
    @Test
    void itNamesTheVariableItLacksAndStaysOutOfHelp() {
        var none = Cli.against("http://127.0.0.1:9").run("step-io", "pull");
        assertThat(none.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(none.err()).contains("CAPSTAN_STEP_STAGE");
        var noS3 = Cli.against("http://127.0.0.1:9").env("CAPSTAN_STEP_STAGE", "s3://capstan/pipeline-steps/pr_u_ab_1")
                .env("CAPSTAN_STEP_DIR", "/work/attempt-1").run("step-io", "push", "--wait");
        assertThat(noS3.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(noS3.err()).contains("CAPSTAN_S3_BUCKET");
        var badAction = Cli.against("http://127.0.0.1:9").env("CAPSTAN_STEP_STAGE", "s3://capstan/pipeline-steps/pr_u_ab_1")
                .env("CAPSTAN_STEP_DIR", "/work/attempt-1").run("step-io", "sync");
        assertThat(badAction.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(badAction.err()).contains("pull or push");
        // For pods, not people.
        assertThat(Cli.against("http://127.0.0.1:9").run("--help").out()).doesNotContain("step-io");
    }
}
