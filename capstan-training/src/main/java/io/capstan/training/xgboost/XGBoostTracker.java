package io.capstan.training.xgboost;

import ml.dmlc.xgboost4j.java.RabitTracker;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * XGBoost's collective tracker as a workload of its own: {@code XGBoostTracker WORKERS HOST PORT TIMEOUT_SECONDS}.
 * It listens on the port the controller chose and recorded before launch, and exits 0 once every worker has
 * finished, or non-zero when they do not all join and finish within the timeout.
 */
public final class XGBoostTracker {
    private XGBoostTracker() {
    }

    public static void main(String[] args) throws XGBoostError {
        if (args.length != 4) {
            System.err.println("usage: XGBoostTracker WORKERS HOST PORT TIMEOUT_SECONDS");
            System.exit(2);
        }
        int workers = Integer.parseInt(args[0]);
        int port = Integer.parseInt(args[2]);
        int timeoutSeconds = Integer.parseInt(args[3]);
        var tracker = new RabitTracker(workers, args[1], port, timeoutSeconds);
        if (!tracker.start()) {
            System.err.println("the XGBoost tracker could not start on " + args[1] + ":" + port);
            System.exit(1);
        }
        System.out.println("tracker listening on " + args[1] + ":" + port + " for " + workers + " workers: " + tracker.getWorkerArgs());
        tracker.waitFor(timeoutSeconds * 1000L);
        tracker.stop();
        System.out.println("tracker finished");
    }
}
