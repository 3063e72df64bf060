package io.capstan.search;

import io.capstan.core.InvalidSpecException;
import io.capstan.search.internal.BayesianOptimization;
import io.capstan.search.internal.CmaEs;
import io.capstan.search.internal.GridSearch;
import io.capstan.search.internal.Hyperband;
import io.capstan.search.internal.PopulationBasedTraining;
import io.capstan.search.internal.MedianStop;
import io.capstan.search.internal.RandomSearch;
import io.capstan.search.internal.SobolSearch;
import io.capstan.search.internal.TreeParzenSearch;
import io.capstan.search.internal.Settings;
import io.capstan.search.internal.UnitSpace;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Creates algorithms and early-stopping rules by their Katib names ({@code random}, {@code grid}, {@code sobol},
 * {@code tpe}, {@code multivariate-tpe}, {@code bayesianoptimization}, {@code cmaes}, {@code hyperband},
 * {@code pbt}; {@code medianstop}) with Katib's settings.
 *
 * <p>Settings by algorithm ({@code random_state} seeds every algorithm that draws at random; without it a fixed
 * seed is used, so suggestions are always reproducible):
 * <ul>
 *   <li>{@code random}: {@code random_state}. {@code sobol}: {@code random_state} (shifts the sequence).
 *       {@code grid}: none.</li>
 *   <li>{@code tpe}, {@code multivariate-tpe}: {@code n_startup_trials} (10), {@code n_ei_candidates} or
 *       {@code n_EI_candidates} (24), {@code gamma} (hyperopt's fraction, default Optuna's rule),
 *       {@code prior_weight} (1.0).</li>
 *   <li>{@code bayesianoptimization}: {@code base_estimator} (GP), {@code n_initial_points} (10), {@code acq_func}
 *       (EI, PI, LCB or UCB, or gp_hedge, the default: a portfolio of EI, PI and LCB), {@code acq_optimizer}
 *       (accepted, always sampling plus local search), {@code xi} (0.01; also the least gain that counts as progress:
 *       a search that has stalled restarts from fresh design points, see {@code BayesianOptimization}),
 *       {@code kappa} (1.96).</li>
 *   <li>{@code cmaes}: {@code sigma} (1/6 of each range), {@code restart_strategy} (none, ipop or bipop).</li>
 *   <li>{@code hyperband}: {@code resource_name} (required), {@code eta} (3), {@code r_l} (the resource's max).</li>
 *   <li>{@code pbt}: {@code suggestion_trial_dir}, {@code n_population} (40), {@code truncation_threshold} (0.2),
 *       {@code resample_probability} (never).</li>
 *   <li>{@code medianstop}: {@code min_trials_required} (3), {@code start_step} (4).</li>
 * </ul>
 * Label contracts of cmaes, hyperband and pbt are described on their classes in {@code io.capstan.search.internal}.
 */
public final class SearchAlgorithms {
    private static final String ALGORITHM_NAME = "algorithm.algorithmName";
    private static final String EARLY_STOPPING_NAME = "earlyStopping.algorithmName";
    private static final List<String> ALGORITHMS = List.of("random", "grid", "sobol", "tpe",
            "multivariate-tpe", "bayesianoptimization", "cmaes", "hyperband", "pbt");

    private SearchAlgorithms() {
    }

    /**
     * The algorithm {@code name} configured by {@code settings} for {@code space}.
     *
     * @throws io.capstan.core.InvalidSpecException naming {@code algorithm.algorithmName} for an unknown or refused
     *         algorithm (enas and darts, with the reason), or {@code algorithm.algorithmSettings.<name>} for an
     *         unknown setting or a bad value
     */
    public static SearchAlgorithm create(String name, Map<String, String> settings, SearchSpace space) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(space, "space");
        UnitSpace unitSpace = UnitSpace.of(space);
        String prefix = Settings.ALGORITHM_PREFIX;
        return switch (name) {
            case "random" -> new RandomSearch(Settings.of(settings, prefix, Set.of("random_state")).seed());
            case "grid" -> {
                Settings.of(settings, prefix, Set.of());
                GridSearch.check(unitSpace);
                yield new GridSearch();
            }
            case "sobol" -> {
                Settings s = Settings.of(settings, prefix, Set.of("random_state"));
                yield new SobolSearch(s.text("random_state").isPresent() ? OptionalLong.of(s.seed()) : OptionalLong.empty());
            }
            case "tpe", "multivariate-tpe" -> treeParzen(Settings.of(settings, prefix, Set.of("n_startup_trials",
                    "n_ei_candidates", "n_EI_candidates", "gamma", "prior_weight", "random_state")), name.equals("multivariate-tpe"));
            case "cmaes" -> {
                Settings s = Settings.of(settings, prefix, Set.of("sigma", "restart_strategy", "random_state"));
                String restarts = s.choice("restart_strategy", "none", Set.of("none", "ipop", "bipop"));
                yield new CmaEs(s.seed(), s.doubleValue("sigma", 1.0 / 6, 0, 1, true), CmaEs.Restarts.valueOf(restarts.toUpperCase()));
            }
            case "bayesianoptimization" -> bayesianOptimization(Settings.of(settings, prefix, Set.of("base_estimator",
                    "n_initial_points", "acq_func", "acq_optimizer", "random_state", "xi", "kappa")));
            case "hyperband" -> hyperband(Settings.of(settings, prefix, Set.of("resource_name", "eta", "r_l", "random_state")), space);
            case "pbt" -> {
                Settings s = Settings.of(settings, prefix, Set.of("suggestion_trial_dir", "n_population",
                        "truncation_threshold", "resample_probability", "random_state"));
                // suggestion_trial_dir is where the trial template reads and writes checkpoints; the trial runner maps it.
                yield new PopulationBasedTraining(new PopulationBasedTraining.Config(s.seed(),
                        s.intValue("n_population", 40, 5, 100_000),
                        s.doubleValue("truncation_threshold", 0.2, 0, 1, true),
                        s.doubleValue("resample_probability", -1, 0, 1, false)));
            }
            case "enas", "darts" -> throw InvalidSpecException.of(ALGORITHM_NAME,
                    ("algorithm '%s' is a neural-architecture search: it needs Katib's nasConfig and a trial image built "
                            + "for it, which Capstan does not run; use a hyperparameter algorithm such as "
                            + "bayesianoptimization or tpe").formatted(name));
            default -> throw InvalidSpecException.of(ALGORITHM_NAME, "unknown algorithm '%s'; use one of %s"
                    .formatted(name, String.join(", ", ALGORITHMS)));
        };
    }

    private static SearchAlgorithm hyperband(Settings s, SearchSpace space) {
        String resourceName = s.text("resource_name").orElseThrow(() -> InvalidSpecException.of(s.path("resource_name"),
                "hyperband needs resource_name: the parameter that receives each trial's budget (epochs, steps)"));
        Parameter resource = space.parameters().stream().filter(p -> p.name().equals(resourceName)).findFirst()
                .orElseThrow(() -> s.bad("resource_name", resourceName, "the name of a parameter of the search space"));
        if (resource.type() != ParameterType.INT && resource.type() != ParameterType.DOUBLE) {
            throw s.bad("resource_name", resourceName, "an int or double parameter");
        }
        double eta = s.doubleValue("eta", 3, 1, Double.MAX_VALUE, true);
        double maxResource = s.doubleValue("r_l", resource.max(), 1, Double.MAX_VALUE, false);
        return new Hyperband(s.seed(), resourceName, eta, maxResource);
    }

    private static SearchAlgorithm treeParzen(Settings s, boolean multivariate) {
        int candidates = s.intValue("n_ei_candidates", s.intValue("n_EI_candidates", 24, 1, 100_000), 1, 100_000);
        var gamma = s.text("gamma").isPresent()
                ? OptionalDouble.of(s.doubleValue("gamma", 0.25, 0, 1, true)) : OptionalDouble.empty();
        return new TreeParzenSearch(new TreeParzenSearch.Config(s.seed(), s.intValue("n_startup_trials", 10, 0, 100_000),
                candidates, gamma, s.doubleValue("prior_weight", 1.0, 0, Double.MAX_VALUE, true), multivariate));
    }

    private static SearchAlgorithm bayesianOptimization(Settings s) {
        s.choice("base_estimator", "GP", Set.of("GP"));
        s.choice("acq_optimizer", "auto", Set.of("auto", "sampling", "lbfgs"));
        String acquisition = s.choice("acq_func", "gp_hedge", Set.of("gp_hedge", "EI", "PI", "LCB", "UCB"));
        var config = new BayesianOptimization.Config(s.seed(),
                s.intValue("n_initial_points", 10, 1, 10_000),
                switch (acquisition) {
                    case "PI" -> BayesianOptimization.Acquisition.PI;
                    case "LCB", "UCB" -> BayesianOptimization.Acquisition.LCB;
                    case "EI" -> BayesianOptimization.Acquisition.EI;
                    default -> BayesianOptimization.Acquisition.HEDGE;
                },
                s.doubleValue("xi", 0.01, 0, Double.MAX_VALUE, false),
                s.doubleValue("kappa", 1.96, 0, Double.MAX_VALUE, false));
        return new BayesianOptimization(config);
    }

    /**
     * The early-stopping rule {@code name} ({@code medianstop}) configured by {@code settings}.
     *
     * @throws io.capstan.core.InvalidSpecException naming {@code earlyStopping.algorithmName} or
     *         {@code earlyStopping.algorithmSettings.<name>}
     */
    public static EarlyStoppingRule earlyStopping(String name, Map<String, String> settings) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(settings, "settings");
        if (name.equals("medianstop")) {
            Settings s = Settings.of(settings, Settings.EARLY_STOPPING_PREFIX, Set.of("min_trials_required", "start_step"));
            return new MedianStop(s.intValue("min_trials_required", 3, 1, Integer.MAX_VALUE),
                    s.intValue("start_step", 4, 1, Integer.MAX_VALUE));
        }
        throw InvalidSpecException.of(EARLY_STOPPING_NAME, "unknown early-stopping algorithm '%s'; use medianstop".formatted(name));
    }
}
