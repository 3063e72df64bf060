package io.capstan.tuning;

import io.capstan.search.EarlyStoppingRule;
import io.capstan.search.SearchAlgorithm;
import io.capstan.search.SearchAlgorithms;
import io.capstan.search.SearchSpace;
import io.capstan.search.Suggestion;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A test-local search: suggests the given values of one parameter in order, then nothing; early stopping comes from
 * capstan-search. Lets controller tests say which trial gets which value.
 */
record FixedCatalog(String parameter, List<String> values) implements SearchCatalog {
    @Override
    public SearchAlgorithm create(String name, Map<String, String> settings, SearchSpace space) {
        return (s, history, count) -> {
            var out = new ArrayList<Suggestion>();
            for (int i = history.size(); i < values.size() && out.size() < count; i++) out.add(Suggestion.of(Map.of(parameter, values.get(i))));
            return out;
        };
    }

    @Override
    public EarlyStoppingRule earlyStopping(String name, Map<String, String> settings) {
        return SearchAlgorithms.earlyStopping(name, settings);
    }
}
