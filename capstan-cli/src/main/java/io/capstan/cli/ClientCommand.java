package io.capstan.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** What the verbs that talk to a server have in common: the root's environment, the client options and the output. */
abstract class ClientCommand implements Callable<Integer> {
    @ParentCommand
    Capstan root;

    @Mixin
    ClientOptions clientOptions;

    @Spec
    CommandSpec spec;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    CapstanClient client() {
        return clientOptions.client(root.env());
    }

    /** Splits {@code job/hello} into type and name; a plain argument is a type. */
    record TypedName(String type, String name) {
        static TypedName parse(String arg) {
            int slash = arg.indexOf('/');
            if (slash < 0) return new TypedName(arg, "");
            if (slash == 0 || slash == arg.length() - 1 || arg.indexOf('/', slash + 1) >= 0) {
                throw new UsageException("'" + io.capstan.core.Names.printable(arg) + "' is not TYPE or TYPE/NAME, such as job/hello");
            }
            return new TypedName(arg.substring(0, slash), arg.substring(slash + 1));
        }
    }
}
