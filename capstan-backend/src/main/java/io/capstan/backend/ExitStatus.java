package io.capstan.backend;

import java.util.Optional;

/**
 * What a wrapper's exit code means. The wrapper shell reports a child killed by signal N as 128+N, as every POSIX
 * shell does, so a program that itself exits with 129..192 is reported as killed by a signal too; Kubernetes has
 * the same ambiguity (exit code 137 for SIGKILL).
 */
record ExitStatus(WorkloadPhase phase, Optional<Integer> exitCode, String message) {

    static ExitStatus of(int code) {
        if (code == 0) return new ExitStatus(WorkloadPhase.SUCCEEDED, Optional.of(0), "exited with code 0");
        if (code > 128 && code <= 128 + 64) {
            return new ExitStatus(WorkloadPhase.FAILED, Optional.of(code), "killed by signal " + (code - 128));
        }
        if (code == 127) {
            return new ExitStatus(WorkloadPhase.FAILED, Optional.of(code),
                    "exited with code 127: the program or one it runs was not found; see stderr");
        }
        return new ExitStatus(WorkloadPhase.FAILED, Optional.of(code), "exited with code " + code);
    }

    static ExitStatus stopped(WorkloadPhase phase, String message) {
        return new ExitStatus(phase, Optional.empty(), message);
    }
}
