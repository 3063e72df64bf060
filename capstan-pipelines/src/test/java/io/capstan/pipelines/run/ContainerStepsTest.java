package io.capstan.pipelines.run;

import static io.capstan.pipelines.run.RunFixture.task;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.testing.TestImages;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A KFP pipeline of container steps whose programs exist only in their image, run by a real Podman. */
class ContainerStepsTest {
    private static String image;

    @TempDir
    Path dir;
    RunFixture fx;

    @BeforeAll
    static void buildImage() throws Exception {
        TestImages.require();
        image = TestImages.image("kfp-steps", Map.of(
                "/opt/steps/write.sh", "#!/bin/sh\necho \"rows: 42\" > \"$1\"\n",
                "/opt/steps/read.sh", "#!/bin/sh\nprintf '%s (read in the image)' \"$(cat \"$1\")\" > \"$2\"\n"));
    }

    @BeforeEach
    void setUp() {
        fx = new RunFixture(dir);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void stepsRunTheirImagesWithArtifactsAndOutputsAtThePathsTheyAreGiven() {
        var pipeline = """
                pipelineInfo: {name: in-containers}
                schemaVersion: 2.1.0
                sdkVersion: kfp-2.13.0
                components:
                  comp-write:
                    executorLabel: exec-write
                    outputDefinitions:
                      artifacts:
                        data: {artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}}
                  comp-read:
                    executorLabel: exec-read
                    inputDefinitions:
                      artifacts:
                        data: {artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}}
                    outputDefinitions:
                      parameters:
                        Output: {parameterType: STRING}
                deploymentSpec:
                  executors:
                    exec-write:
                      container:
                        image: IMAGE
                        command: [/opt/steps/write.sh, "{{$.outputs.artifacts['data'].path}}"]
                    exec-read:
                      container:
                        image: IMAGE
                        command: [/opt/steps/read.sh]
                        args: ["{{$.inputs.artifacts['data'].path}}", "{{$.outputs.parameters['Output'].output_file}}"]
                root:
                  dag:
                    tasks:
                      write:
                        taskInfo: {name: write}
                        componentRef: {name: comp-write}
                      read:
                        taskInfo: {name: read}
                        componentRef: {name: comp-read}
                        dependentTasks: [write]
                        inputs:
                          artifacts:
                            data: {taskOutputArtifact: {producerTask: write, outputArtifactKey: data}}
                """.replace("IMAGE", image);
        assertThat(Path.of("/opt/steps/write.sh")).doesNotExist();

        var run = fx.runToEnd(fx.submit("in-containers", RunFixture.specOf(pipeline, Map.of())));

        assertThat(run.status().phase()).as(String.valueOf(run.status())).isEqualTo("Succeeded");
        assertThat(task(run, "root/read").path("outputs").path("parameters").path("Output").asText()).isEqualTo("rows: 42 (read in the image)");
    }
}
