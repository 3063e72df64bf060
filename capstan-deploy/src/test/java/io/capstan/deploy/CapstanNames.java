package io.capstan.deploy;

import java.util.Set;
import java.util.regex.Pattern;

/** Names that Capstan's own code holds, read from its compiled classes. */
final class CapstanNames {
    private static volatile Set<String> environment;

    private CapstanNames() {
    }

    /** Every CAPSTAN_* environment variable name some Capstan class reads (string constants of io/capstan classes). */
    static Set<String> environmentVariables() {
        var e = environment;
        if (e == null) {
            e = Set.copyOf(ClassScan.find(Pattern.compile("(CAPSTAN_[A-Z0-9_]*[A-Z0-9])"), "io/capstan/", name -> true));
            environment = e;
        }
        return e;
    }
}
