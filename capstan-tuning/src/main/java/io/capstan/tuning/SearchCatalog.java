package io.capstan.tuning;

import io.capstan.search.EarlyStoppingRule;
import io.capstan.search.SearchAlgorithm;
import io.capstan.search.SearchAlgorithms;
import io.capstan.search.SearchSpace;
import java.util.Map;

/** Where algorithms come from: capstan-search in production, a seam for tests of the controller logic. */
interface SearchCatalog {
    SearchCatalog KATIB = new SearchCatalog() {
        @Override
        public SearchAlgorithm create(String name, Map<String, String> settings, SearchSpace space) {
            return SearchAlgorithms.create(name, settings, space);
        }

        @Override
        public EarlyStoppingRule earlyStopping(String name, Map<String, String> settings) {
            return SearchAlgorithms.earlyStopping(name, settings);
        }
    };

    /** Accepts every name and setting; for reading a spec that was validated at admission, without building algorithms. */
    SearchCatalog UNCHECKED = new SearchCatalog() {
        @Override
        public SearchAlgorithm create(String name, Map<String, String> settings, SearchSpace space) {
            return (s, history, count) -> java.util.List.of();
        }

        @Override
        public EarlyStoppingRule earlyStopping(String name, Map<String, String> settings) {
            return (running, history) -> false;
        }
    };

    SearchAlgorithm create(String name, Map<String, String> settings, SearchSpace space);

    EarlyStoppingRule earlyStopping(String name, Map<String, String> settings);
}
