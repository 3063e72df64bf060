package io.capstan.serving.runtime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

/** Custom Java models: every {@link JavaModelFactory} on the class path, each serving its own format. */
public final class JavaModelRuntime implements ModelRuntime {

    public static final String NAME = "capstan-java";

    private final Map<String, JavaModelFactory> factories;

    public JavaModelRuntime(List<JavaModelFactory> factories) {
        var byFormat = new LinkedHashMap<String, JavaModelFactory>();
        for (var factory : factories) {
            byFormat.putIfAbsent(factory.format().toLowerCase(Locale.ROOT), factory);
        }
        this.factories = Map.copyOf(byFormat);
    }

    /** The factories found by {@link ServiceLoader} in {@code classLoader}. */
    public static JavaModelRuntime discover(ClassLoader classLoader) {
        var found = new ArrayList<JavaModelFactory>();
        ServiceLoader.load(JavaModelFactory.class, classLoader).forEach(found::add);
        return new JavaModelRuntime(found);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<SupportedFormat> supportedFormats() {
        return factories.keySet().stream().sorted().map(SupportedFormat::of).toList();
    }

    @Override
    public LoadedModel load(ModelSource source) throws ModelLoadException {
        var factory = factories.get(source.format().toLowerCase(Locale.ROOT));
        if (factory == null) {
            throw new ModelLoadException("no JavaModelFactory serves format '" + source.format() + "'; known: "
                    + factories.keySet().stream().sorted().toList());
        }
        try {
            return factory.create(source);
        } catch (RuntimeException e) {
            throw new ModelLoadException("custom model factory for '" + source.format() + "' failed: " + e, e);
        }
    }
}
