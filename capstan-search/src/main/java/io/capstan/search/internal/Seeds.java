package io.capstan.search.internal;

import java.util.SplittableRandom;

/** Randomness derived from {@code random_state} and the history size, so a call's answer depends on its inputs only. */
public final class Seeds {
    private Seeds() {
    }

    public static SplittableRandom forCall(long seed, int historySize) {
        return new SplittableRandom(mix(seed * 0x9E3779B97F4A7C15L + historySize));
    }

    public static SplittableRandom forCall(long seed, long... parts) {
        long h = seed;
        for (long p : parts) h = mix(h * 0x9E3779B97F4A7C15L + p);
        return new SplittableRandom(h);
    }

    static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb93e2d5a1ca9L;
        return z ^ (z >>> 33);
    }

    /** A standard normal draw. */
    public static double gaussian(SplittableRandom random) {
        double u1 = 1.0 - random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
