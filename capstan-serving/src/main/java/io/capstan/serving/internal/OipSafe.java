package io.capstan.serving.internal;

/** Makes client-supplied text safe to echo in an error message. */
final class OipSafe {
    private OipSafe() {
    }

    static String printable(String s) {
        var cut = s.length() > 64 ? s.substring(0, 64) + "..." : s;
        return io.capstan.core.Names.printable(cut);
    }
}
