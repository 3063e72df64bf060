/**
 * Model runtimes: the SPI ({@link io.capstan.serving.runtime.ModelRuntime},
 * {@link io.capstan.serving.runtime.LoadedModel}, {@link io.capstan.serving.runtime.JavaModelFactory}
 * for custom Java models found by ServiceLoader) and the built-in runtimes
 * ({@link io.capstan.serving.runtime.Runtimes#builtIn()}).
 */
package io.capstan.serving.runtime;
