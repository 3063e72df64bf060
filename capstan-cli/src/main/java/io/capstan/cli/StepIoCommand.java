package io.capstan.cli;

import io.capstan.pipelines.run.StepLauncher;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * The launcher of a pipeline step's pod on the Kubernetes backend ({@link StepLauncher}): run by the pod's init
 * container ({@code pull}) and its sidecar ({@code push --wait}) from Capstan's image. Not for people: hidden from help.
 */
@Command(name = "step-io", hidden = true, mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Inside a pipeline step's pod: pull the step's folder from S3 before it runs, or push its outputs after.")
final class StepIoCommand implements Callable<Integer> {
    @ParentCommand
    Capstan root;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "pull|push", description = "pull the step's inputs, or push its outputs")
    private String action;

    @Option(names = "--wait", description = "push: first wait for the step's exit code in " + StepLauncher.EXIT_FILE + "; push nothing unless it is 0")
    private boolean await;

    @Override
    public Integer call() throws InterruptedException {
        var out = spec.commandLine().getOut();
        out.println(StepLauncher.run(action, await, root.env(), root.clock()));
        out.flush();
        return ExitCodes.OK;
    }
}
