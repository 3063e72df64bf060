package io.capstan.serving.internal;

import io.capstan.core.ConflictException;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import io.capstan.store.WatchQuery;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * Keeps a server that does not lead serving every ready model. Controllers run only on the leader, so without this a
 * second server on the same database answered 404 for every model. While this server does not lead, the follower
 * tails the store's change feed of InferenceServices (status writes included, which is how the leader's "Ready"
 * arrives) and hands each changed key to {@link InferenceServiceReconciler#follow}; it also lists them all when it
 * starts following and once per resync period, in case a change was missed. While this server leads it does nothing:
 * the controller runtime reconciles, and the revisions the follower loaded are the reconciler's own.
 */
public final class ServingFollower implements AutoCloseable {
    private static final Duration LOOP_WAIT = Duration.ofMillis(200);
    private static final Duration FEED_WAIT = Duration.ofSeconds(1);
    private static final Duration STOP_WAIT = Duration.ofSeconds(5);
    private static final int FEED_BATCH = 500;
    private static final System.Logger LOG = System.getLogger(ServingFollower.class.getName());

    private final ResourceStore store;
    private final InferenceServiceReconciler reconciler;
    private final BooleanSupplier leading;
    private final Duration resync;
    private final Thread loop;
    private volatile boolean closed;

    private ServingFollower(ResourceStore store, InferenceServiceReconciler reconciler, BooleanSupplier leading, Duration resync) {
        this.store = store;
        this.reconciler = reconciler;
        this.leading = leading;
        this.resync = resync;
        this.loop = Thread.ofVirtual().name("capstan-serving-follower").unstarted(this::run);
    }

    /**
     * Starts following on a virtual thread of its own.
     *
     * @param leading whether this server leads now (the controller runtime's {@code isLeading})
     * @param resync how often every InferenceService is looked at again
     */
    public static ServingFollower start(ResourceStore store, InferenceServiceReconciler reconciler, BooleanSupplier leading,
                                        Duration resync) {
        var follower = new ServingFollower(store, reconciler, leading, resync);
        follower.loop.start();
        return follower;
    }

    private void run() {
        var query = WatchQuery.ofKind(ServingKinds.INFERENCE_SERVICE);
        long after = -1; // the feed position; -1 until listed since this server last stopped leading
        long nextResync = 0;
        while (!closed) {
            try {
                if (leading.getAsBoolean()) {
                    after = -1;
                    pause(LOOP_WAIT);
                    continue;
                }
                if (after < 0 || System.nanoTime() - nextResync >= 0) {
                    // Watch from the version read before listing, so that nothing between the two is lost.
                    long from = store.currentVersion();
                    followAll();
                    if (after < 0) after = from;
                    nextResync = System.nanoTime() + resync.toNanos();
                }
                for (var change : store.changedKeys(query, after, FEED_BATCH, FEED_WAIT)) {
                    after = change.resourceVersion();
                    if (closed || leading.getAsBoolean()) break;
                    reconciler.follow(change.key());
                }
            } catch (ConflictException e) {
                after = -1; // the feed was compacted past our position: list again
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "following InferenceServices failed; retrying: " + e, e);
                pause(Duration.ofSeconds(1));
            }
        }
    }

    private void followAll() {
        Optional<String> token = Optional.empty();
        do {
            var page = store.list(new ListQuery(ServingKinds.INFERENCE_SERVICE, Optional.empty(), LabelSelector.EVERYTHING,
                    ListQuery.MAX_LIMIT, token));
            for (var isvc : page.items()) {
                if (closed || leading.getAsBoolean()) return;
                reconciler.follow(isvc.key());
            }
            token = page.continueToken();
        } while (token.isPresent());
    }

    private void pause(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    /** Stops following, waiting up to 5 s for a model load in progress. */
    @Override
    public void close() {
        closed = true;
        loop.interrupt();
        try {
            loop.join(STOP_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
