package io.capstan.registry;

/** Stopping the registry's background threads (registrations, serving sync, webhook dispatch) the same way. */
final class BackgroundThreads {
    private BackgroundThreads() {
    }

    /** Interrupts {@code thread}, if it was started, and waits up to 5 s for it to end. */
    static void stop(Thread thread) {
        if (thread == null) return;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
