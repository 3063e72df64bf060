/**
 * Offline runtime for KFP v2 lightweight Python components: {@link io.capstan.kfpruntime.KfpRuntime} installs
 * Capstan's own {@code kfp} package, {@link io.capstan.kfpruntime.LightweightSteps} rewrites a step's command to use
 * it without pip, and {@link io.capstan.kfpruntime.PythonImports} tells which packages this machine's Python has.
 */
package io.capstan.kfpruntime;
